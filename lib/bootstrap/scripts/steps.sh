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
    say "  installing ${missing[*]} into $TOOLS_DIR"
    make_venv "$TOOLS_DIR"
    "$TOOLS_DIR/bin/pip" install -q "${missing[@]}"
  fi
  aws_v=$(aws --version 2>&1)
  uv_v=$(uv --version 2>&1)
  say "  ${aws_v%%$'\n'*}; ${uv_v%%$'\n'*}"
}

step_stack() {
  local pkgs=("ray[serve,llm]==$RAY_VERSION" "vllm==$VLLM_VERSION" "nixl==$NIXL_VERSION")
  # The wheel cache is tens of GB: keep it off the root volume when the instance store is there.
  if [ "$ON_GPU" = 1 ]; then export UV_CACHE_DIR="$R$NVME/uv-cache"; fi
  uv venv --seed --python "$PY" "$VENV_DIR"
  uv pip install --python "$VENV_DIR/bin/python" "${pkgs[@]}"
  # LMCache runs only inside the vLLM engines on GPU nodes. Its wheels' CUDA extension is built against an older
  # torch than vLLM's, so it is compiled here against the torch just installed, for this GPU's architecture only.
  [ "$ON_GPU" = 1 ] || return 0
  # LMCache's own build requirements (pyproject.toml); --no-build-isolation does not enforce them.
  uv pip install --python "$VENV_DIR/bin/python" "setuptools>=77.0.3,<81" "setuptools-scm>=8" wheel ninja packaging
  local torch_cuda cuda_major cuda_home=/usr/local/cuda
  torch_cuda=$("$VENV_DIR/bin/python" -c 'import torch; print(torch.version.cuda or "")' </dev/null)
  cuda_major=${torch_cuda%%.*}
  # LMCache picks its CUDA-specific requirements (cuda12_core.txt or cuda13_core.txt) from LMCACHE_CUDA_MAJOR,
  # 13 unless set (LMCache setup_extensions/build_profiles/cuda.py, _cuda_major): it must follow torch's CUDA.
  case $cuda_major in
    12 | 13) ;;
    *) fail "vLLM's torch reports CUDA '${torch_cuda}': LMCache $LMCACHE_VERSION builds for CUDA 12 or 13 (LMCACHE_CUDA_MAJOR)" ;;
  esac
  # torch refuses to build an extension with a CUDA toolkit of another major version than its own, and the DLAMI
  # carries several: take the one matching the installed torch when it is there.
  if [ -d "/usr/local/cuda-$torch_cuda" ]; then cuda_home="/usr/local/cuda-$torch_cuda"; fi
  say "  building lmcache $LMCACHE_VERSION for sm_$CUDA_ARCH against torch's CUDA $torch_cuda ($cuda_home, LMCACHE_CUDA_MAJOR=$cuda_major)"
  LMCACHE_CUDA_MAJOR="$cuda_major" TORCH_CUDA_ARCH_LIST="$CUDA_ARCH" CUDA_HOME="$cuda_home" PATH="$cuda_home/bin:$PATH" \
    MAX_JOBS="$(nproc)" \
    uv pip install --python "$VENV_DIR/bin/python" --no-build-isolation --no-binary lmcache "lmcache==$LMCACHE_VERSION"
}

# The Python checks come as the stack's CDK asset (with the scripts they would not fit in the user data).
step_python() {
  local zip="$STATE_DIR/python-files.zip" files f
  aws s3 cp --only-show-errors "$PYTHON_FILES_URL" "$zip"
  "$VENV_DIR/bin/python" -m zipfile -e "$zip" "$BIN_DIR/" </dev/null
  read -ra files <<<"$PYTHON_FILES"
  for f in "${files[@]}"; do
    [ -f "$BIN_DIR/$f" ] || fail "$PYTHON_FILES_URL lacks $f (it has: $(ls "$BIN_DIR"))"
  done
  say "  ${#files[@]} files in ${BIN_DIR#"$R"}"
}

# Ray's workers inherit the raylet's environment: this is how the engine processes get these settings. Written
# before the checks, so that they run in exactly this environment.
step_ray_env() {
  {
    echo "HOME=/root"
    # systemd's default PATH lacks the venv and CUDA: JIT steps in the engines (FlashInfer, inductor) look up
    # ninja and nvcc there.
    echo "PATH=$VENV/bin:/usr/local/cuda/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    if [ "$ON_GPU" = 1 ]; then
      echo "HF_HOME=$HF_DIR"
      [ -z "$HF_TOKEN_SECRET_ARN" ] || echo "HF_TOKEN_PATH=${CONF_DIR#"$R"}/hf_token"
      echo "FI_PROVIDER=efa"
      # Needed by libfabric < 1.18 for GPUDirect RDMA, harmless on newer ones (AWS EFA cheatsheet).
      echo "FI_EFA_USE_DEVICE_RDMA=1"
      # NIXL's LIBFABRIC plugin needs the EFA installer's libfabric, not an older one on the default path.
      echo "LD_LIBRARY_PATH=/opt/amazon/efa/lib"
      echo "NIXL_BACKEND=$NIXL_BACKEND"
    fi
  } >"$RAY_ENV_FILE"
  say "  $(wc -l <"$RAY_ENV_FILE") variables in ${RAY_ENV_FILE#"$R"}"
}

# Sets STACK_SUMMARY; leaves $STATE_DIR/stack.json (versions, LMCache's compiled modules) for the node facts.
step_verify() {
  local pins=("ray=$RAY_VERSION" "vllm=$VLLM_VERSION" "nixl=$NIXL_VERSION") gpu=()
  if [ "$ON_GPU" = 1 ]; then
    pins+=("lmcache=$LMCACHE_VERSION")
    gpu=(--gpu)
  fi
  run_probe verify_stack.py --facts "$STATE_DIR/stack.json" "${gpu[@]}" "${pins[@]}"
  STACK_SUMMARY=$PROBE_VERDICT
  say "  $STACK_SUMMARY"
}

# Sets NIXL_PROVIDER; leaves $STATE_DIR/nixl.json for the node facts.
step_nixl() {
  run_probe nixl_probe.py --backend "$NIXL_BACKEND" --facts "$STATE_DIR/nixl.json"
  NIXL_PROVIDER=$(json_field provider "$(<"$STATE_DIR/nixl.json")")
  say "  $PROBE_VERDICT"
}

# Needs GPU_COUNT, GPU_NAME, EFA_COUNT, INSTANCE_TYPE and the probes' facts files.
step_facts() {
  local facts="$R$NODE_FACTS" key="$NODE_FACTS_PREFIX$ROLE-$GPU_INDEX.json"
  "$VENV_DIR/bin/python" "$BIN_DIR/node_facts.py" --out "$facts" --stack "$STATE_DIR/stack.json" \
    --nixl "$STATE_DIR/nixl.json" "role=$ROLE" "index=$GPU_INDEX" "instanceId=$INSTANCE_ID" "privateIp=$PRIVATE_IP" \
    "instanceType=$INSTANCE_TYPE" "gpus=$GPU_COUNT" "gpuName=$GPU_NAME" "efaDevices=$EFA_COUNT" </dev/null >/dev/null
  aws s3 cp --only-show-errors "$facts" "s3://$BUCKET/$key"
  say "  $(<"$facts")"
  say "  written to $NODE_FACTS and s3://$BUCKET/$key"
}

step_model() {
  local token_file="$CONF_DIR/hf_token"
  if [ -n "$HF_TOKEN_SECRET_ARN" ]; then
    local secret
    secret=$(aws secretsmanager get-secret-value --secret-id "$HF_TOKEN_SECRET_ARN" --query SecretString --output text)
    # A key/value secret from the console arrives as JSON: take its first value.
    case $secret in \{*) secret=$(sed -E 's/^\{[^:]*:[[:space:]]*"([^"]*)".*/\1/' <<<"$secret") ;; esac
    (umask 077 && printf '%s' "$secret" >"$token_file")
    export HF_TOKEN_PATH="$token_file"
  fi
  HF_HOME="$R$HF_DIR" "$VENV_DIR/bin/python" "$BIN_DIR/download_model.py" "$MODEL" </dev/null
  say "  $MODEL cached in $HF_DIR ($(du -sh "$R$HF_DIR" 2>/dev/null | cut -f1))"
}

read_head() {
  local json
  json=$(aws s3 cp "s3://$BUCKET/$HEAD_KEY" - 2>/dev/null || true)
  HEAD_IP=$(sed -nE 's/.*"ip": *"([0-9.]+)".*/\1/p' <<<"$json")
  WAIT_NOTE="s3://$BUCKET/$HEAD_KEY not published yet"
  [ -n "$HEAD_IP" ] || return 1
  WAIT_NOTE="$HEAD_IP:$RAY_GCS_PORT does not answer ray health-check yet"
  ray_answers "$HEAD_IP:$RAY_GCS_PORT"
}

# Sets HEAD_IP.
step_find_head() {
  HEAD_IP=""
  local limit
  limit=$(time_left)
  wait_for "the Ray head" "$limit" read_head || fail "no Ray head answered within ${limit}s: $WAIT_NOTE"
  say "  Ray head at $HEAD_IP:$RAY_GCS_PORT"
}

step_ray() {
  local args=(start --block "--node-ip-address=$PRIVATE_IP")
  if [ "$IS_RAY_HEAD" = 1 ]; then
    args+=(--head "--port=$RAY_GCS_PORT" --dashboard-host=0.0.0.0 "--dashboard-port=$RAY_DASHBOARD_PORT"
      "--ray-client-server-port=$RAY_CLIENT_PORT")
    # Keeps every replica on the GPU nodes; the head still runs the GCS, dashboard and Serve controller.
    if [ "$ON_GPU" = 0 ]; then args+=(--num-gpus=0 --num-cpus=0); fi
    HEAD_IP=$PRIVATE_IP
  else
    args+=("--address=$HEAD_IP:$RAY_GCS_PORT")
  fi
  mkdir -p "$(dirname "$UNIT_FILE")"
  # Services do not get the EFA installer's limits.d memlock setting; EFA and LMCache pin memory.
  cat >"$UNIT_FILE" <<UNIT
[Unit]
Description=Ray $([ "$IS_RAY_HEAD" = 1 ] && echo head || echo worker) ($STACK_NAME $ROLE $GPU_INDEX)
Wants=network-online.target
After=network-online.target dlami-nvme.service

[Service]
Type=simple
EnvironmentFile=${RAY_ENV_FILE#"$R"}
ExecStart=$VENV/bin/ray ${args[*]}
ExecStop=$VENV/bin/ray stop
Restart=on-failure
RestartSec=10
LimitNOFILE=65536
LimitMEMLOCK=infinity
TimeoutStopSec=60

[Install]
WantedBy=multi-user.target
UNIT
  systemctl daemon-reload
  systemctl enable --now ray.service
  local probe=(ray_answers "$PRIVATE_IP:$RAY_GCS_PORT")
  [ "$IS_RAY_HEAD" = 1 ] || probe=(node_joined)
  wait_for "Ray to come up" "${P5RAY_RAY_WAIT:-300}" "${probe[@]}" ||
    fail "ray.service did not come up within ${P5RAY_RAY_WAIT:-300}s (${NODES:+$(cluster_text); }see journalctl -u ray)"
  say "  ray.service running${NODES:+ ($(cluster_text))}"
}

ray_answers() { "$VENV_DIR/bin/ray" health-check --address "$1" >/dev/null 2>&1; }

# Sets NODES, GPUS (alive, cluster-wide) and MY_GPUS (this node as Ray sees it, -1 when absent).
read_cluster() {
  local out
  out=$("$VENV_DIR/bin/python" "$BIN_DIR/read_cluster.py" "$HEAD_IP:$RAY_GCS_PORT" "$PRIVATE_IP" 2>/dev/null </dev/null || true)
  NODES=$(sed -nE 's/.*nodes=([0-9]+).*/\1/p' <<<"$out")
  GPUS=$(sed -nE 's/.*gpus=([0-9]+).*/\1/p' <<<"$out")
  MY_GPUS=$(sed -nE 's/.*mine=(-?[0-9]+).*/\1/p' <<<"$out")
  WAIT_NOTE="$(cluster_text)"
  [ -n "$GPUS" ]
}

cluster_text() { echo "${NODES:-?} nodes alive, ${GPUS:-?} GPUs in the cluster"; }

node_joined() { read_cluster && [ "$MY_GPUS" = "$EXPECTED_GPUS" ]; }

step_publish() {
  printf '{"ip":"%s","port":%s,"instanceId":"%s","dashboardPort":%s}\n' \
    "$PRIVATE_IP" "$RAY_GCS_PORT" "$INSTANCE_ID" "$RAY_DASHBOARD_PORT" >"$STATE_DIR/head.json"
  aws s3 cp --only-show-errors "$STATE_DIR/head.json" "s3://$BUCKET/$HEAD_KEY"
  say "  published $PRIVATE_IP:$RAY_GCS_PORT to s3://$BUCKET/$HEAD_KEY"
}

step_serve() {
  mkdir -p "$SERVE_DIR"
  local zip="$STATE_DIR/serve-bundle.zip" n
  # The bundle is the stack's CDK asset: uploaded by `cdk deploy` before the stack starts, so it is always there.
  aws s3 cp --only-show-errors "$SERVE_BUNDLE_URL" "$zip"
  "$VENV_DIR/bin/python" -m zipfile -e "$zip" "$SERVE_DIR/" </dev/null
  n=$(find "$SERVE_DIR" -type f | grep -c . || true)
  [ "$n" -gt 0 ] || fail "the serve bundle $SERVE_BUNDLE_URL is empty"
  find "$SERVE_DIR" -name '*.sh' -exec chmod +x {} +
  if [ "$IS_RAY_HEAD" = 1 ]; then
    # A copy in the artifacts bucket, beside the results it produces.
    aws s3 cp --only-show-errors --recursive "$SERVE_DIR/" "s3://$BUCKET/$SERVE_PREFIX"
  fi
  say "  $n files in $SERVE_BUNDLE"
}

cluster_complete() {
  read_cluster && [ "$GPUS" -ge "$CLUSTER_GPUS" ]
}

step_wait_gpus() {
  local limit
  limit=$(time_left)
  wait_for "$CLUSTER_GPUS GPUs on $GPU_NODES nodes" "$limit" cluster_complete ||
    fail "only ${GPUS:-0} of $CLUSTER_GPUS GPUs joined within ${limit}s (${NODES:-0} nodes alive; expected $GPU_NODES × $GPUS_PER_NODE)"
}
