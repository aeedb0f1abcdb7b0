#!/usr/bin/env bash
# The project's test command: type-check, lint (no warnings), then every test/**/*.test.ts with Node's own runner.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc --noEmit
npx eslint --max-warnings 0 .
mapfile -t files < <(find test -name '*.test.ts' | sort)
if [ "${#files[@]}" -eq 0 ]; then echo "no test files under test/" >&2; exit 1; fi
exec node --import tsx --test --test-concurrency=2 "${files[@]}"
