#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# shellcheck disable=SC2154  # the settings (ROLE, EXPECTED_GPUS, RAY_VERSION…) come from cluster.env
#
# Boots one node: checks the hardware, installs the pinned stack, proves it runs on EFA with LMCache's compiled
# kernels, runs Ray under systemd, and reports to CloudFormation exactly once, FAILURE naming the step as soon as
# anything is wrong (nodes cost ~$55/h each). Usage: bootstrap-node.sh <cluster.env>. Written into the user data
# by lib/bootstrap with lib.sh, steps.sh and the Python checks beside it.
set -Eeuo pipefail
umask 022
ENV_FILE=$1
BIN_DIR=$(dirname "$0")
# shellcheck source=/dev/null
. "$ENV_FILE"
. "$BIN_DIR/lib.sh"
. "$BIN_DIR/steps.sh"

VENV_DIR="$R$VENV"
SERVE_DIR="$R$SERVE_BUNDLE"
LOG_FILE="$R$BOOTSTRAP_LOG"
CONF_DIR=$(dirname "$ENV_FILE")
RAY_ENV_FILE="$CONF_DIR/ray.env"
UNIT_FILE="$R/etc/systemd/system/ray.service"
TOOLS_DIR="$R$NODE_ROOT/tools"
HF_DIR="$NVME/hf"
PY="${P5RAY_PYTHON:-/usr/bin/python3}"
# Appended, not prepended, so a test's stubs stay first; cloud-init's PATH lacks the EFA installer's bin.
export PATH="$PATH:/opt/amazon/efa/bin:$TOOLS_DIR/bin"
export AWS_DEFAULT_REGION="$REGION"
ON_GPU=$([ "$ROLE" = gpu ] && echo 1 || echo 0)

mkdir -p "$(dirname "$LOG_FILE")" "$STATE_DIR"
exec > >(tee -a "$LOG_FILE") 2>&1
TEE_PID=$!
install_traps

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
add step_python "fetch the node's Python checks"
add step_ray_env "write the Ray workers' environment"
add step_verify "verify the Python stack$([ "$ON_GPU" = 1 ] && echo " and LMCache's compiled kernels")"
if [ "$ON_GPU" = 1 ]; then
  add step_nixl "verify NIXL $NIXL_BACKEND runs on EFA"
  add step_facts "record the node facts"
  add step_model "download $MODEL to $HF_DIR"
fi
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
[ "$ON_GPU" = 0 ] || summary+="; $GPU_COUNT × $GPU_NAME; $EFA_COUNT EFA; NIXL $NIXL_BACKEND on $NIXL_PROVIDER"
summary+="; ${STACK_SUMMARY:-}"
say "ready after ${SECONDS}s: $summary"
signal SUCCESS "$ROLE $GPU_INDEX ready after ${SECONDS}s" "$summary"
