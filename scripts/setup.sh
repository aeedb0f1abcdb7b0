#!/usr/bin/env bash
# Everything the tests need on a fresh machine: the pinned npm packages, shellcheck, promtool, Go, systemd's tools, gpg,
# a C compiler check, and a Python venv with exactly scripts/test-requirements.txt (Ray 2.58.0, whose own schema
# validates the serve configs; ruff; the AWS CLI's config loader; cfn-lint, whose CloudFormation schemas drive the
# update tests) and uv. The three independent parts (npm, the Debian packages, the venv) run at once: on a fresh
# 2-core machine the set-up takes about as long as its slowest part. Idempotent; safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT

# The venv needs only python3 and the network: it builds in the background while npm and apt run.
echo "[setup] Python venv (.test-venv, scripts/test-requirements.txt), in the background"
bash scripts/setup-python-venv.sh >"$logs/venv" 2>&1 &
venv_pid=$!

# Each generated file is read by its consumer or by that consumer's own rules (test/generated-files.test.ts):
# - shellcheck: every shell script the stack renders;
# - promtool (Debian's prometheus): the observability stack's Prometheus config, the dashboard's PromQL and the EFA
#   writer's output;
# - go (golang-go, ~80 MB): dcgm-exporter's counters file through Go's own encoding/csv (the first test build of the
#   reader then takes ~25 s with an empty Go build cache);
# - systemd-analyze and systemd's env-file parser (systemd-environment-d-generator): the node's units and
#   EnvironmentFile= files (Debian's systemd package, present on most machines already);
# - gpg and apt-get: Grafana's apt keyring and source line, against a local signed repository.
# One apt-get update and one install for whatever is missing.
missing=()
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v go >/dev/null 2>&1 || missing+=(golang-go)
{ command -v systemd-analyze >/dev/null 2>&1 && [ -x /usr/lib/systemd/user-environment-generators/30-systemd-environment-d-generator ]; } || missing+=(systemd)
command -v gpg >/dev/null 2>&1 || missing+=(gnupg)
system_tools() {
  if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then apt_get=(apt-get); else apt_get=(sudo apt-get); fi
    "${apt_get[@]}" update -qq
    DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -qq --no-install-recommends "${missing[@]}"
  fi

  # The counters-file test compiles dcgm-exporter's reader (test/monitoring/dcgm-reader.ts) with Go; with Go's build
  # cache empty, as on a fresh machine, that first build compiles Go's standard packages (~25 s). Building it here once,
  # beside the venv, fills the cache: the test still compiles the reader, from the cache, in about a second.
  GOTOOLCHAIN=local GOFLAGS='' CGO_ENABLED=0 go build -o /dev/null test/monitoring/dcgm-counters-reader/main.go ||
    { echo "error: go build of test/monitoring/dcgm-counters-reader failed" >&2; return 1; }
}
echo "[setup] ${missing[*]:+Debian packages ${missing[*]}, then }Go's build cache, in the background"
system_tools >"$logs/system" 2>&1 &
system_pid=$!

echo "[setup] npm packages (package-lock.json)"
npm ci --no-audit --no-fund --loglevel=error

# The bootstrap tests build a small Python extension module (a stand-in for LMCache's compiled kernels).
command -v cc >/dev/null 2>&1 || { echo "error: a C compiler (cc) is needed by test/bootstrap: apt-get install gcc" >&2; exit 1; }

if ! wait "$system_pid"; then
  cat "$logs/system" >&2
  echo "error: the Debian packages or the Go build failed; their output is above" >&2
  exit 1
fi
if ! wait "$venv_pid"; then
  cat "$logs/venv" >&2
  echo "error: the Python venv (scripts/setup-python-venv.sh) failed; its output is above" >&2
  exit 1
fi
sed 's/^/[setup] /' "$logs/venv"
echo "[setup] done"
