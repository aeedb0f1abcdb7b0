# shellcheck shell=bash
# shellcheck disable=SC2154,SC2034  # settings come from cluster.env; variables set here are read by lib.sh and the main script
#
# The bootstrap steps, one function each. A step reads the settings and what earlier steps left in the variables
# named in its comment, and fails the node with a reason (fail) when its check does not hold.

# Sets INSTANCE_ID, PRIVATE_IP, INSTANCE_TYPE, LAUNCHED, DEADLINE; starts the watchdog.
step_identity() {
  IMDS_TOKEN=$(curl -fsS --max-time 5 --retry 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 21600' \
    "$IMDS/latest/api/token")
  INSTANCE_ID=$(imds meta-data/instance-id)
  PRIVATE_IP=$(imds meta-data/local-ipv4)
  local doc
  doc=$(imds dynamic/instance-identity/document)
  INSTANCE_TYPE=$(json_field instanceType "$doc")
  # "The date and time that the instance was launched" (EC2 User Guide, Instance identity documents).
  LAUNCHED=$(json_field pendingTime "$doc")
  DEADLINE=$(deadline_from_launch "$LAUNCHED" "$BOOTSTRAP_TIMEOUT_SECONDS" "$DEADLINE_MARGIN_SECONDS") ||
    fail "cannot read the launch time (pendingTime '$LAUNCHED') from the instance identity document"
  printf "INSTANCE_ID='%s'\nPRIVATE_IP='%s'\n" "$INSTANCE_ID" "$PRIVATE_IP" >>"$ENV_FILE"
  say "  instance $INSTANCE_ID ($INSTANCE_TYPE), private IP $PRIVATE_IP, stack $STACK_NAME, region $REGION"
  say "  deadline: $(deadline_text), ${DEADLINE_MARGIN_SECONDS}s before ClusterReady times out; $(time_left)s left"
  if [ "$ON_GPU" = 1 ] && [ "$INSTANCE_TYPE" != "$GPU_INSTANCE_TYPE" ]; then
    fail "this instance is a $INSTANCE_TYPE, the stack was synthesized for $GPU_INSTANCE_TYPE"
  fi
  start_watchdog
}

step_nvme() {
  # dlami-nvme.service assembles and mounts the instance store; formatting it here would race with it.
  wait_for "the NVMe mount at $NVME" "${P5RAY_NVME_WAIT:-300}" mountpoint -q "$R$NVME" ||
    fail "no filesystem mounted at $NVME (dlami-nvme.service did not mount the instance store; not formatting it here)"
  mkdir -p "$R$HF_DIR" "$R$NVME/lmcache"
}

# Sets GPU_COUNT, GPU_NAME.
step_gpus() {
  local out shown
  out=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>&1 || true)
  GPU_COUNT=$(grep -c -F "$GPU_MODEL" <<<"$out" || true)
  GPU_NAME=${out%%$'\n'*}
  shown=${out:0:300}
  [ "$GPU_COUNT" -eq "$EXPECTED_GPUS" ] ||
    fail "expected $EXPECTED_GPUS $GPU_MODEL GPUs ($GPU_INSTANCE_TYPE), found $GPU_COUNT (nvidia-smi: ${shown//$'\n'/ })"
  say "  $GPU_COUNT × $GPU_NAME"
}

# Sets EFA_COUNT.
step_efa() {
  local out last
  # Newer libfabric lists every device twice (efa and efa-direct), so count distinct domains.
  out=$(fi_info -p efa -t FI_EP_RDM 2>&1 || true)
  EFA_COUNT=$(awk '$1 == "domain:" { print $2 }' <<<"$out" | sort -u | grep -c . || true)
  last=${out%$'\n'}
  last=${last##*$'\n'}
  [ "$EFA_COUNT" -eq "$EXPECTED_EFA" ] ||
    fail "expected $EXPECTED_EFA EFA devices ($GPU_INSTANCE_TYPE), found $EFA_COUNT (fi_info -p efa -t FI_EP_RDM: ${last:0:200})"
  say "  $EFA_COUNT EFA devices"
}

make_venv() {
  if "$PY" -m venv "$1"; then return 0; fi
  # Ubuntu ships venv's ensurepip separately; install it only when it is missing.
  say "  python venv module incomplete: installing python$PYTHON_VERSION-venv with apt"
  apt-get -o DPkg::Lock::Timeout=600 -q update
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -yq install "python$PYTHON_VERSION-venv"
  "$PY" -m venv "$1"
}

step_tools() {
  local have aws_v uv_v
  have=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  # Ray refuses to join nodes whose Python differs, and the pinned wheels are built per Python version.
  [ "$have" = "$PYTHON_VERSION" ] || fail "system Python is $have at $PY, the pinned stack expects $PYTHON_VERSION"
  local missing=()
  command -v aws >/dev/null || missing+=(awscli)
  command -v uv >/dev/null || missing+=(uv)
  if [ "${#missing[@]}" -gt 0 ]; then
    need_internet PyPI "$PYPI_URL"
    say "  installing ${missing[*]} into $TOOLS_DIR"
    make_venv "$TOOLS_DIR"
    "$TOOLS_DIR/bin/pip" install -q "${missing[@]}"
  fi
  aws_v=$(aws --version 2>&1)
  uv_v=$(uv --version 2>&1)
  say "  ${aws_v%%$'\n'*}; ${uv_v%%$'\n'*}"
}

s3_get() {
  local out
  out=$(aws s3 cp --only-show-errors "$1" "$2" 2>&1) && return 0
  WAIT_NOTE=${out:0:200}
  return 1
}

# The Python checks and the later steps (asset-steps.sh) come as the stack's CDK asset: with the scripts they would
# not fit in EC2's 16 KB of user data. The node's first S3 call: it waits until the S3 gateway endpoint's route and
# the role's policy are in place.
step_python() {
  local zip="$STATE_DIR/python-files.zip" files f limit
  limit=$(min "$(time_left)" "$NET_WAIT")
  wait_for "S3 ($PYTHON_FILES_URL)" "$limit" s3_get "$PYTHON_FILES_URL" "$zip" ||
    fail "cannot read $PYTHON_FILES_URL within ${limit}s: $WAIT_NOTE (the S3 gateway endpoint's route, the instance role's policy)"
  "$PY" -m zipfile -e "$zip" "$BIN_DIR/" </dev/null
  read -ra files <<<"$PYTHON_FILES"
  for f in "${files[@]}"; do
    [ -f "$BIN_DIR/$f" ] || fail "$PYTHON_FILES_URL lacks $f (it has: $(ls "$BIN_DIR"))"
  done
  say "  ${#files[@]} files in ${BIN_DIR#"$R"}"
  # shellcheck source=asset-steps.sh
  . "$BIN_DIR/asset-steps.sh"
}

