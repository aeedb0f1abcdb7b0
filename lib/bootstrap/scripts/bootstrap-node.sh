#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# shellcheck disable=SC2154  # the settings (ROLE, EXPECTED_GPUS, RAY_VERSION…) come from cluster.env
#
# Boots one node: checks the hardware, installs the pinned stack, runs Ray under systemd, and reports to
# CloudFormation exactly once, FAILURE naming the step as soon as anything is wrong (nodes cost ~$55/h each).
# Usage: bootstrap-node.sh <cluster.env>. Written into the user data by lib/bootstrap; see docs/bootstrap.md.
set -Eeuo pipefail
umask 022
ENV_FILE=$1
# shellcheck source=/dev/null
. "$ENV_FILE"
. "$(dirname "$0")/lib.sh"

VENV_DIR="$R$VENV"
SERVE_DIR="$R$SERVE_BUNDLE"
LOG_FILE="$R$BOOTSTRAP_LOG"
CONF_DIR=$(dirname "$ENV_FILE")
UNIT_FILE="$R/etc/systemd/system/ray.service"
TOOLS_DIR="$R$NODE_ROOT/tools"
HF_DIR="$NVME/hf"
PY="${P5RAY_PYTHON:-/usr/bin/python3}"
DEADLINE=$((SECONDS + ${P5RAY_WAIT_LIMIT:-$((BOOTSTRAP_TIMEOUT_SECONDS - 300))}))
# Appended, not prepended, so a test's stubs stay first; cloud-init's PATH lacks the EFA installer's bin.
export PATH="$PATH:/opt/amazon/efa/bin:$TOOLS_DIR/bin"
export AWS_DEFAULT_REGION="$REGION"
ON_GPU=$([ "$ROLE" = gpu ] && echo 1 || echo 0)

mkdir -p "$(dirname "$LOG_FILE")" "$STATE_DIR"
exec > >(tee -a "$LOG_FILE") 2>&1
install_traps

step_identity() {
  IMDS_TOKEN=$(curl -fsS --max-time 5 --retry 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 21600' \
    "$IMDS/latest/api/token")
  INSTANCE_ID=$(imds instance-id)
  PRIVATE_IP=$(imds local-ipv4)
  printf "INSTANCE_ID='%s'\nPRIVATE_IP='%s'\n" "$INSTANCE_ID" "$PRIVATE_IP" >>"$ENV_FILE"
  say "  instance $INSTANCE_ID, private IP $PRIVATE_IP, stack $STACK_NAME, region $REGION"
}

step_nvme() {
  # dlami-nvme.service assembles and mounts the instance store; formatting it here would race with it.
  wait_for "the NVMe mount at $NVME" "${P5RAY_NVME_WAIT:-300}" mountpoint -q "$R$NVME" ||
    fail "no filesystem mounted at $NVME (dlami-nvme.service did not mount the instance store; not formatting it here)"
  mkdir -p "$R$HF_DIR" "$R$NVME/lmcache"
}

step_gpus() {
  local out found
  out=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>&1 || true)
  found=$(printf '%s\n' "$out" | grep -c "$GPU_MODEL" || true)
  GPU_NAME=$(printf '%s\n' "$out" | head -n 1)
  [ "$found" -eq "$EXPECTED_GPUS" ] ||
    fail "expected $EXPECTED_GPUS $GPU_MODEL GPUs ($GPU_INSTANCE_TYPE), found $found (nvidia-smi: $(printf '%s' "$out" | head -n 2 | tr '\n' ' '))"
  say "  $found × $GPU_NAME"
}

step_efa() {
  local out found
  # Newer libfabric lists every device twice (efa and efa-direct), so count distinct domains.
  out=$(fi_info -p efa -t FI_EP_RDM 2>&1 || true)
  found=$(printf '%s\n' "$out" | awk '$1 == "domain:" { print $2 }' | sort -u | grep -c . || true)
  [ "$found" -eq "$EXPECTED_EFA" ] ||
    fail "expected $EXPECTED_EFA EFA devices ($GPU_INSTANCE_TYPE), found $found (fi_info -p efa -t FI_EP_RDM: $(printf '%s' "$out" | tail -n 1))"
  say "  $found EFA devices"
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
  local have
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
  say "  $(aws --version 2>&1 | head -n 1); $(uv --version 2>&1 | head -n 1)"
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
  # torch refuses to build an extension with a CUDA toolkit of another major version than its own, and the DLAMI
  # carries several: take the one matching the installed torch when it is there.
  local torch_cuda cuda_home=/usr/local/cuda
  torch_cuda=$("$VENV_DIR/bin/python" -c 'import torch; print(torch.version.cuda or "")' </dev/null)
  if [ -n "$torch_cuda" ] && [ -d "/usr/local/cuda-$torch_cuda" ]; then cuda_home="/usr/local/cuda-$torch_cuda"; fi
  say "  building lmcache $LMCACHE_VERSION for sm_$CUDA_ARCH against torch's CUDA ${torch_cuda:-?} ($cuda_home)"
  TORCH_CUDA_ARCH_LIST="$CUDA_ARCH" CUDA_HOME="$cuda_home" PATH="$cuda_home/bin:$PATH" MAX_JOBS="$(nproc)" \
    uv pip install --python "$VENV_DIR/bin/python" --no-build-isolation --no-binary lmcache "lmcache==$LMCACHE_VERSION"
}

step_verify() {
  local out
  if ! out=$("$VENV_DIR/bin/python" - verify "ray=$RAY_VERSION" "vllm=$VLLM_VERSION" "nixl=$NIXL_VERSION" \
    "lmcache=$LMCACHE_VERSION" "gpu=$ON_GPU" "backend=$NIXL_BACKEND" 2>&1 <<'PY'
import importlib, importlib.metadata as md, sys
want = dict(a.split("=", 1) for a in sys.argv[2:])
problems, found = [], []
gpu = want["gpu"] == "1"
for pkg in ("ray", "vllm", "nixl") + (("lmcache",) if gpu else ()):
    try:
        v = md.version(pkg)
    except md.PackageNotFoundError:
        v = "missing"
    found.append(f"{pkg}={v}")
    if v != want[pkg]:
        problems.append(f"{pkg} {v} installed, {want[pkg]} pinned")
# lmcache.c_ops is the compiled extension; the adapter is what vLLM's LMCacheConnectorV1 imports.
gpu_mods = ["torch", "lmcache.c_ops", "lmcache.integration.vllm.vllm_v1_adapter", "nixl._api"]
for mod in ["ray", "vllm"] + (gpu_mods if gpu else []):
    try:
        importlib.import_module(mod)
    except Exception as e:
        problems.append(f"import {mod}: {type(e).__name__}: {e}")
if gpu and not problems:
    import torch
    from nixl._api import nixl_agent, nixl_agent_config
    found.append(f"torch={torch.__version__}")
    b = want["backend"]
    try:
        agent = nixl_agent("p5-ray-boot-probe", nixl_agent_config(backends=[b]))
        plugins = agent.get_plugin_list()
        found.append("nixl_plugins=" + ",".join(plugins))
        if b not in agent.backends:
            problems.append(f"NIXL backend {b} not created (plugins found: {', '.join(plugins)})")
    except Exception as e:
        problems.append(f"NIXL backend {b}: {type(e).__name__}: {e}")
print(" ".join(found))
if problems:
    print("; ".join(problems))
    sys.exit(1)
PY
  ); then
    fail "$(printf '%s\n' "$out" | tail -n 1 | cut -c1-600)"
  fi
  STACK_SUMMARY=$(printf '%s\n' "$out" | tail -n 1)
  say "  $STACK_SUMMARY"
}

step_model() {
  local token_file="$CONF_DIR/hf_token"
  if [ -n "$HF_TOKEN_SECRET_ARN" ]; then
    local secret
    secret=$(aws secretsmanager get-secret-value --secret-id "$HF_TOKEN_SECRET_ARN" --query SecretString --output text)
    # A key/value secret from the console arrives as JSON: take its first value.
    case $secret in \{*) secret=$(printf '%s' "$secret" | sed -E 's/^\{[^:]*:[[:space:]]*"([^"]*)".*/\1/') ;; esac
    (umask 077 && printf '%s' "$secret" >"$token_file")
    export HF_TOKEN_PATH="$token_file"
  fi
  HF_HOME="$R$HF_DIR" "$VENV_DIR/bin/python" - download "$MODEL" <<'PY'
import sys
from huggingface_hub import snapshot_download
# original/ and metal/ hold other formats of the same weights (gpt-oss ships both): vLLM reads neither, and they
# would triple the download on two $55/h nodes.
print(snapshot_download(repo_id=sys.argv[2], ignore_patterns=["original/*", "metal/*"]))
PY
  say "  $MODEL cached in $HF_DIR ($(du -sh "$R$HF_DIR" 2>/dev/null | cut -f1))"
}

read_head() {
  local json
  json=$(aws s3 cp "s3://$BUCKET/$HEAD_KEY" - 2>/dev/null || true)
  HEAD_IP=$(printf '%s' "$json" | sed -nE 's/.*"ip": *"([0-9.]+)".*/\1/p')
  WAIT_NOTE="s3://$BUCKET/$HEAD_KEY not published yet"
  [ -n "$HEAD_IP" ] || return 1
  WAIT_NOTE="$HEAD_IP:$RAY_GCS_PORT does not answer ray health-check yet"
  ray_answers "$HEAD_IP:$RAY_GCS_PORT"
}

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
  # Ray's workers inherit the raylet's environment: this is how the engine processes get these settings.
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
  } >"$CONF_DIR/ray.env"
  mkdir -p "$(dirname "$UNIT_FILE")"
  # Services do not get the EFA installer's limits.d memlock setting; EFA and LMCache pin memory.
  cat >"$UNIT_FILE" <<UNIT
[Unit]
Description=Ray $([ "$IS_RAY_HEAD" = 1 ] && echo head || echo worker) ($STACK_NAME $ROLE $GPU_INDEX)
Wants=network-online.target
After=network-online.target dlami-nvme.service

[Service]
Type=simple
EnvironmentFile=${CONF_DIR#"$R"}/ray.env
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
  out=$("$VENV_DIR/bin/python" - cluster "$HEAD_IP:$RAY_GCS_PORT" "$PRIVATE_IP" 2>/dev/null <<'PY' || true
import sys, ray
ray.init(address=sys.argv[2], logging_level="ERROR", log_to_driver=False)
alive = [n for n in ray.nodes() if n["Alive"]]
mine = [n for n in alive if n["NodeManagerAddress"] == sys.argv[3]]
gpus = int(sum(n["Resources"].get("GPU", 0) for n in alive))
print(f"nodes={len(alive)} gpus={gpus} mine={int(mine[0]['Resources'].get('GPU', 0)) if mine else -1}")
PY
  )
  NODES=$(printf '%s' "$out" | sed -nE 's/.*nodes=([0-9]+).*/\1/p')
  GPUS=$(printf '%s' "$out" | sed -nE 's/.*gpus=([0-9]+).*/\1/p')
  MY_GPUS=$(printf '%s' "$out" | sed -nE 's/.*mine=(-?[0-9]+).*/\1/p')
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

STEP_FUNCS=()
STEP_NAMES=()
add() { STEP_FUNCS+=("$1"); STEP_NAMES+=("$2"); }

add step_identity "read the instance identity"
if [ "$ON_GPU" = 1 ]; then
  add step_nvme "wait for the NVMe instance store at $NVME"
  add step_gpus "verify $EXPECTED_GPUS GPUs"
  add step_efa "verify $EXPECTED_EFA EFA devices"
fi
add step_tools "check Python $PYTHON_VERSION, AWS CLI and uv"
add step_stack "install ray $RAY_VERSION, vllm $VLLM_VERSION, nixl $NIXL_VERSION$([ "$ON_GPU" = 1 ] && echo ", lmcache $LMCACHE_VERSION (built for sm_$CUDA_ARCH)") into $VENV"
add step_verify "verify the Python stack$([ "$ON_GPU" = 1 ] && echo ", lmcache.c_ops and the NIXL $NIXL_BACKEND backend")"
[ "$ON_GPU" = 0 ] || add step_model "download $MODEL to $HF_DIR"
# Every node gets the bundle before it joins Ray: the YAMLs import builder.py via PYTHONPATH, and Ray may run the
# app build task on any node.
add step_serve "copy the serve bundle to $SERVE_BUNDLE"
[ "$IS_RAY_HEAD" = 1 ] || add step_find_head "find the Ray head"
add step_ray "start Ray under systemd ($([ "$IS_RAY_HEAD" = 1 ] && echo head || echo "worker, joining the head"))"
if [ "$IS_RAY_HEAD" = 1 ]; then
  add step_publish "publish the head address"
  add step_wait_gpus "wait for all $CLUSTER_GPUS GPUs to join"
fi

total=${#STEP_FUNCS[@]}
for i in "${!STEP_FUNCS[@]}"; do
  STEP="$((i + 1))/$total (${STEP_NAMES[$i]})"
  say "step $((i + 1))/$total: ${STEP_NAMES[$i]} (${SECONDS}s)"
  cw_flush
  "${STEP_FUNCS[$i]}"
done

STEP="$total/$total (done)"
if [ "$IS_RAY_HEAD" = 1 ]; then
  summary="ray head $PRIVATE_IP:$RAY_GCS_PORT; cluster ${NODES:-?} nodes, ${GPUS:-?}/$CLUSTER_GPUS GPUs"
else
  summary="ray worker of $HEAD_IP:$RAY_GCS_PORT"
fi
[ "$ON_GPU" = 0 ] || summary+="; $EXPECTED_GPUS × ${GPU_NAME:-GPU}; $EXPECTED_EFA EFA; NIXL $NIXL_BACKEND"
summary+="; ${STACK_SUMMARY:-}"
say "ready after ${SECONDS}s: $summary"
signal SUCCESS "$ROLE $GPU_INDEX ready after ${SECONDS}s" "$summary"
