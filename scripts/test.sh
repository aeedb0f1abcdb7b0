#!/usr/bin/env bash
# The project's test command: type-check, lint (no warnings), then every test/**/*.test.ts with Node's own runner.
# The terminal gets a line per file, failures in full and a summary (test/reporter.mts); the complete TAP stream goes
# to .test-results/tests.tap.
set -euo pipefail
cd "$(dirname "$0")/.."
# The type check and the lint each keep one core busy for most of their run: side by side on two cores. Each one's
# output is printed whole once both are done, so their messages never interleave. tsc keeps its incremental state in
# the project's cache folder (package.json config.cacheDir): an unchanged file is not checked again (a fresh checkout
# has none, and checks everything).
cache_dir=$(node -p 'JSON.parse(require("fs").readFileSync("package.json", "utf8")).config.cacheDir')
mkdir -p "$cache_dir"
checks=$(mktemp -d)
# Every temporary folder the tests make (Node's os.tmpdir(), Python's tempfile, mktemp, Ray's session folders) goes
# into one folder of this run, removed at its end: a run leaves nothing behind in /tmp (it made some 600 folders).
run_tmp=$(mktemp -d "${TMPDIR:-/tmp}/p5-tests.XXXXXX")
trap 'rm -rf "$checks" "$run_tmp"' EXIT
npx tsc --noEmit --incremental --tsBuildInfoFile "$cache_dir/tsc.tsbuildinfo" >"$checks/tsc" 2>&1 &
tsc_pid=$!
npx eslint --max-warnings 0 . >"$checks/eslint" 2>&1 &
eslint_pid=$!
status=0
wait "$tsc_pid" || status=$?
cat "$checks/tsc"
if [ "$status" -ne 0 ]; then echo "tsc --noEmit failed (exit $status)" >&2; fi
lint_status=0
wait "$eslint_pid" || lint_status=$?
cat "$checks/eslint"
if [ "$lint_status" -ne 0 ]; then echo "eslint --max-warnings 0 failed (exit $lint_status)" >&2; status=$lint_status; fi
if [ "$status" -ne 0 ]; then exit "$status"; fi
mapfile -t files < <(find test -name '*.test.ts' | sort)
if [ "${#files[@]}" -eq 0 ]; then echo "no test files under test/" >&2; exit 1; fi
mkdir -p .test-results
TMPDIR=$run_tmp node --import tsx --test --test-concurrency=2 \
  --test-reporter=./test/reporter.mts --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination=.test-results/tests.tap \
  "${files[@]}"
