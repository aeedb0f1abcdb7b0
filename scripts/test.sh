#!/usr/bin/env bash
# The project's test command: type-check, lint (no warnings), then every test/**/*.test.ts with Node's own runner.
# The terminal gets a line per file, failures in full and a summary (test/reporter.mts); the complete TAP stream goes
# to .test-results/tests.tap.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc --noEmit
npx eslint --max-warnings 0 .
mapfile -t files < <(find test -name '*.test.ts' | sort)
if [ "${#files[@]}" -eq 0 ]; then echo "no test files under test/" >&2; exit 1; fi
mkdir -p .test-results
exec node --import tsx --test --test-concurrency=2 \
  --test-reporter=./test/reporter.mts --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination=.test-results/tests.tap \
  "${files[@]}"
