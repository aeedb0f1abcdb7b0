#!/usr/bin/env bash
# Everything the tests need on a fresh machine: the pinned npm packages, shellcheck, promtool, Go, systemd's tools, gpg,
# a C compiler check, and a Python venv with Ray 2.58.0 (the serve configs are validated against Ray's own schema),
# ruff (the node-side Python in lib/bootstrap/python is linted by the tests), the AWS CLI's config loader, uv (the
# wheelhouse test) and cfn-lint (its CloudFormation schemas drive the update tests). Idempotent; safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "[setup] npm packages (package-lock.json)"
npm ci --no-audit --no-fund

if ! command -v shellcheck >/dev/null 2>&1; then
  echo "[setup] shellcheck (Debian package)"
  if [ "$(id -u)" -eq 0 ]; then apt_get=(apt-get); else apt_get=(sudo apt-get); fi
  "${apt_get[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -qq shellcheck
fi

if ! command -v promtool >/dev/null 2>&1; then
  # promtool checks the observability stack's Prometheus config, the PromQL of its dashboard and the EFA writer's output.
  echo "[setup] promtool (Debian package prometheus)"
  if [ "$(id -u)" -eq 0 ]; then apt_get=(apt-get); else apt_get=(sudo apt-get); fi
  "${apt_get[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -qq --no-install-recommends prometheus
fi

# Each generated file is read by its consumer or by that consumer's own rules (test/generated-files.test.ts):
# - go: dcgm-exporter's counters file through Go's own encoding/csv (Debian's golang-go: ~80 MB, ~15 s to install;
#   the first test build of the reader then takes ~25 s with an empty Go build cache);
# - systemd-analyze and systemd's env-file parser (systemd-environment-d-generator): the node's units and
#   EnvironmentFile= files (Debian's systemd package, present on most machines already);
# - gpg and apt-get: Grafana's apt keyring and source line, against a local signed repository.
missing=()
command -v go >/dev/null 2>&1 || missing+=(golang-go)
{ command -v systemd-analyze >/dev/null 2>&1 && [ -x /usr/lib/systemd/user-environment-generators/30-systemd-environment-d-generator ]; } || missing+=(systemd)
command -v gpg >/dev/null 2>&1 || missing+=(gnupg)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "[setup] ${missing[*]} (Debian packages)"
  if [ "$(id -u)" -eq 0 ]; then apt_get=(apt-get); else apt_get=(sudo apt-get); fi
  "${apt_get[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -qq --no-install-recommends "${missing[@]}"
fi

echo "[setup] Python venv with ray 2.58.0 (.test-venv)"
bash scripts/setup-python-venv.sh

RUFF_VERSION=0.16.9
if [ "$(.test-venv/bin/ruff --version 2>/dev/null)" != "ruff $RUFF_VERSION" ]; then
  echo "[setup] ruff $RUFF_VERSION into .test-venv"
  PIP_RETRIES=0 .test-venv/bin/pip install --disable-pip-version-check -q "ruff==$RUFF_VERSION"
fi
# The AWS CLI's own config loader and s3 transfer rules check the deploy cache's AWS CLI configs (awscli v1 from
# PyPI carries botocore inside; AWS CLI v2 is not on PyPI).
AWSCLI_VERSION=1.46.3
if ! .test-venv/bin/python -c "import awscli, sys; sys.exit(awscli.__version__ != '$AWSCLI_VERSION')" 2>/dev/null; then
  echo "[setup] awscli $AWSCLI_VERSION into .test-venv"
  PIP_RETRIES=0 .test-venv/bin/pip install --disable-pip-version-check -q "awscli==$AWSCLI_VERSION"
fi
# uv, as `npm run wheelhouse` runs it (the version pinned in lib/catalog/software.ts): the wheelhouse test resolves and
# downloads against a local package index with it.
UV_VERSION="$(sed -n "s/^ *uv: '\([0-9.]*\)'.*/\1/p" lib/catalog/software.ts)"
if [ "$(.test-venv/bin/uv --version 2>/dev/null | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  echo "[setup] uv $UV_VERSION into .test-venv"
  PIP_RETRIES=0 .test-venv/bin/pip install --disable-pip-version-check -q "uv==$UV_VERSION"
fi
# The bootstrap tests build a small Python extension module (a stand-in for LMCache's compiled kernels).
command -v cc >/dev/null 2>&1 || { echo "[setup] a C compiler (cc) is needed by test/bootstrap: apt-get install gcc" >&2; exit 1; }
echo "[setup] done"
