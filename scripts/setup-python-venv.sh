#!/usr/bin/env bash
# Creates .test-venv/ with exactly scripts/test-requirements.txt (Ray for the serve-bundle tests, cfn-lint for the
# update tests, ruff, the AWS CLI's config loader) and uv, as `npm run wheelhouse` runs it. uv installs them in one
# resolve with parallel downloads: about 30 s on a fresh machine, where pip took about 2 minutes. Safe to rerun: a
# venv already holding exactly these is left alone (a stamp with the requirements' and uv's versions).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.test-venv
REQUIREMENTS=scripts/test-requirements.txt
version_of() { sed -n "s/^ *$1: '\([0-9.]*\)'.*/\1/p" lib/catalog/software.ts; }
RAY_VERSION="$(version_of ray)"
UV_VERSION="$(version_of uv)"
if [ -z "$RAY_VERSION" ] || [ -z "$UV_VERSION" ]; then
  echo "error: cannot read the ray and uv versions from lib/catalog/software.ts" >&2
  exit 1
fi
grep -qx "ray==$RAY_VERSION" "$REQUIREMENTS" ||
  { echo "error: $REQUIREMENTS does not pin ray==$RAY_VERSION (SOFTWARE.ray in lib/catalog/software.ts)" >&2; exit 1; }

stamp="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1) uv==$UV_VERSION $(python3 --version 2>&1)"
if [ -x "$VENV/bin/python" ] && [ "$(cat "$VENV/.p5-requirements" 2>/dev/null)" = "$stamp" ]; then
  echo "$VENV already has $REQUIREMENTS"
  exit 0
fi
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
# PIP_RETRIES=0: an unreachable default index fails fast instead of being retried for minutes.
PIP_RETRIES=0 "$VENV/bin/pip" install --disable-pip-version-check -q "uv==$UV_VERSION"
"$VENV/bin/uv" pip install -q --python "$VENV/bin/python" -r "$REQUIREMENTS"
"$VENV/bin/python" -c "import ray, ray.serve.schema, cfnlint, awscli; print('ray', ray.__version__, 'ready in $VENV')"
echo "$stamp" >"$VENV/.p5-requirements"
