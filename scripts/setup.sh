#!/usr/bin/env bash
# Everything the tests need on a fresh machine: the pinned npm packages, shellcheck, promtool, a C compiler check, and a
# Python venv with Ray 2.58.0 (the serve configs are validated against Ray's own schema) and ruff (the node-side
# Python in lib/bootstrap/python is linted by the tests) and cfn-lint (its CloudFormation schemas drive the update
# tests). Idempotent; safe to re-run.
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

echo "[setup] Python venv with ray 2.58.0 (.test-venv)"
bash scripts/setup-python-venv.sh

RUFF_VERSION=0.16.9
if [ "$(.test-venv/bin/ruff --version 2>/dev/null)" != "ruff $RUFF_VERSION" ]; then
  echo "[setup] ruff $RUFF_VERSION into .test-venv"
  PIP_RETRIES=0 .test-venv/bin/pip install --disable-pip-version-check -q "ruff==$RUFF_VERSION"
fi
# The bootstrap tests build a small Python extension module (a stand-in for LMCache's compiled kernels).
command -v cc >/dev/null 2>&1 || { echo "[setup] a C compiler (cc) is needed by test/bootstrap: apt-get install gcc" >&2; exit 1; }
echo "[setup] done"
