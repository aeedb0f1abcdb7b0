#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# shellcheck disable=SC2154  # the settings (ROLE, EXPECTED_GPUS, RAY_VERSION…) come from cluster.env
#
# Boots one node: checks the hardware, installs the pinned stack, proves it runs on EFA with LMCache's compiled
# kernels, runs Ray under systemd, and reports to CloudFormation exactly once, FAILURE naming the step as soon as
# anything is wrong (GPU nodes bill by the hour). Usage: bootstrap-node.sh <cluster.env>. Written into the user data
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
PY="${P5RAY_PYTHON:-/usr/bin/python3}"
# Probed before anything is fetched from them: the nodes launch before the NAT route exists. A small page each (the
# root simple index lists every PyPI project: tens of MB, slow on a working route).
PYPI_URL=https://pypi.org/simple/pip/
HF_URL=https://huggingface.co/api/models/$MODEL
START_EPOCH=$(date +%s)
# Appended, not prepended, so a test's stubs stay first; cloud-init's PATH lacks the EFA installer's bin.
export PATH="$PATH:/opt/amazon/efa/bin:$TOOLS_DIR/bin"
export AWS_DEFAULT_REGION="$REGION"
# uv's cache on the venv's filesystem: installing hard-links the files instead of copying ~12 GB.
export UV_CACHE_DIR="$R$UV_CACHE" UV_LINK_MODE=hardlink
ON_GPU=$([ "$ROLE" = gpu ] && echo 1 || echo 0)
VENV_KIND=$([ "$ON_GPU" = 1 ] && echo gpu || echo cpu)
# Downloads and archives: the instance store where there is one.
SCRATCH=$([ "$ON_GPU" = 1 ] && echo "$R$NVME/p5-ray" || echo "$STATE_DIR/scratch")

mkdir -p "$(dirname "$LOG_FILE")" "$STATE_DIR"
if [ "${2:-}" = --upload-cache ]; then
  # shellcheck source=asset-steps.sh
  . "$BIN_DIR/asset-steps.sh"
  cache_upload
  exit 0
fi
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
add step_python "fetch the node's Python checks from S3"
add step_jobs "start $([ "$ON_GPU" = 1 ] && echo "the model download, ")the install of ray $RAY_VERSION, vllm $VLLM_VERSION, nixl $NIXL_VERSION$([ "$ON_GPU" = 1 ] && echo " and the build of lmcache $LMCACHE_VERSION for sm_$CUDA_ARCH") into $VENV"
add step_ray_env "write the Ray workers' environment"
# Every node gets the bundle before it joins Ray: the YAMLs import builder.py via PYTHONPATH, and Ray may run the
# app build task on any node.
add step_serve "copy the serve bundle to $SERVE_BUNDLE"
add step_join "wait for the background jobs"
add step_verify "verify the Python stack$([ "$ON_GPU" = 1 ] && echo " and LMCache's compiled kernels")"
if [ "$ON_GPU" = 1 ]; then
  add step_nixl "verify NIXL $NIXL_BACKEND runs on EFA"
  add step_facts "record the node facts"
fi
[ "$IS_RAY_HEAD" = 1 ] || add step_find_head "find the Ray head"
add step_ray "start Ray under systemd ($([ "$IS_RAY_HEAD" = 1 ] && echo head || echo "worker, joining the head"))"
if [ "$IS_RAY_HEAD" = 1 ]; then
  add step_publish "publish the head address"
  add step_wait_gpus "wait for all $CLUSTER_GPUS GPUs to join"
  add step_scrape "wait for Prometheus to scrape every node"
fi

total=${#STEP_FUNCS[@]}
for i in "${!STEP_FUNCS[@]}"; do
  STEP="$((i + 1))/$total (${STEP_NAMES[$i]})"
  jobs_check || :
  say "step $((i + 1))/$total: ${STEP_NAMES[$i]} (${SECONDS}s)"
  cw_flush
  mark step "${STEP_FUNCS[$i]#step_}" start
  "${STEP_FUNCS[$i]}"
  mark step "${STEP_FUNCS[$i]#step_}" end
done

STEP="$total/$total (done)"
if [ "$IS_RAY_HEAD" = 1 ]; then
  summary="ray head $PRIVATE_IP:$RAY_GCS_PORT; cluster ${NODES:-?} nodes, ${GPUS:-?}/$CLUSTER_GPUS GPUs"
else
  summary="ray worker of $HEAD_IP:$RAY_GCS_PORT"
fi
[ "$ON_GPU" = 0 ] || summary+="; $GPU_COUNT × $GPU_NAME; $EFA_COUNT EFA; NIXL $NIXL_BACKEND on $NIXL_PROVIDER"
summary+="; ${STACK_SUMMARY:-}; venv $(prov_of venv)"
[ "$ON_GPU" = 0 ] || summary+=", lmcache wheel $(prov_of lmcacheWheel), weights $(prov_of weights)"
node_timing
aws s3 cp --only-show-errors "$STATE_DIR/timing.json" "s3://$BUCKET/$NODE_FACTS_PREFIX$ROLE-$GPU_INDEX.timing.json" ||
  say "could not upload the timing summary"
UPLOAD_CACHE=0
if [ -n "$CACHE_BUCKET" ] && { [ "$ROLE" = head ] || [ "$GPU_INDEX" = 0 ]; } && [[ $(<"$PROVENANCE") =~ =(built|downloaded) ]]; then
  UPLOAD_CACHE=1
  # Marked running before the signal: once the cluster is ready, run_all.sh sees every upload still to finish.
  cache_upload_state running
fi
say "ready after ${SECONDS}s: $summary"
signal SUCCESS "$ROLE $GPU_INDEX ready after ${SECONDS}s" "$summary"
if [ "$UPLOAD_CACHE" = 1 ]; then
  say "uploading to the deploy cache in the background (job cache-upload, unit p5-ray-cache-upload)"
  cw_flush now
  # Beside Ray and possibly a benchmark: only idle CPU (nice 19, the cgroup's cpu.idle) and idle-class disk I/O
  # (systemd.exec Nice=, IOSchedulingClass=; systemd.resource-control CPUWeight=idle); deploy_cache.py caps its
  # network bandwidth.
  systemd-run --unit=p5-ray-cache-upload --collect --quiet -p Nice=19 -p IOSchedulingClass=idle -p CPUWeight=idle \
    -- bash "$BIN_DIR/bootstrap-node.sh" "$ENV_FILE" --upload-cache ||
    { say "could not start the deploy-cache upload"; cache_upload_state failed "systemd-run failed"; }
fi
# Diagnostics only, after the signal: waiting for the GPU nodes' timing files can neither delay nor fail the cluster.
if [ "$IS_RAY_HEAD" = 1 ]; then
  cluster_timing
  cw_flush now
fi
