#!/usr/bin/env bash
# Everything the tests need on a fresh machine: the pinned npm packages, shellcheck, and a Python venv with
# Ray 2.58.0 (the serve configs are validated against Ray's own schema). Idempotent; safe to re-run.
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

echo "[setup] Python venv with ray 2.58.0 (.test-venv)"
bash scripts/setup-python-venv.sh
echo "[setup] done"
