#!/usr/bin/env bash
# A rehearsal of the whole p5-ray pipeline on one Linux machine with NVIDIA GPUs (written by `npm run rehearse`):
# the pinned stack installed and LMCache built by the node bootstrap's own code (stack-install.sh), the node's own
# checks (verify_stack.py, the LMCache kernel check; nixl_probe.py records that there is no EFA), a local Ray head,
# every serve configuration of anyscale/ray-serve-llm-perf-examples pd+kv_offloading (and pd_prefill_lmcache)
# deployed through Ray Serve LLM and builder.py by run_all.sh, both workloads benchmarked with their evidence, and a
# summary for `npm run report`. What cannot run here (EFA, p5 timings) is recorded, never faked.
# Settings: rehearsal.env beside this script. Log: logs/rehearsal.log.
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=/dev/null
. "$HERE/rehearsal.env"
# shellcheck disable=SC2154  # the settings come from rehearsal.env
ONLY=""
WORKLOAD="all"
CONCURRENCY=""
PASS=()
SKIP_INSTALL=false
KEEP_RAY=false

usage() {
  cat <<USAGE
Usage: $0 [options]
  --only IDS           run_all.sh: comma-separated configurations (default: all five)
  --workload W         random, prefix-reuse or all (default: all)
  --concurrency LIST   run_all.sh: concurrencies (default: the rehearsal's)
  --cache-policy P     run_all.sh: redeploy (default: a fresh deploy per point) or keep (one per Serve file)
  --router R           run_all.sh: the request router (default auto: one per workload, so two Serve files each)
  --skip-install       the venv $VENV already holds the stack and LMCache (a second run): check it, do not install
  --keep-ray           leave Ray (and Prometheus) running at the end
Environment: HEALTH_TIMEOUT_S (default 900) and POLL_INTERVAL_S (default 5), passed to run_all.sh.
USAGE
}

while [ $# -gt 0 ]; do
  case "$1" in
    --only) ONLY="${2:?}"; shift 2 ;;
    --workload) WORKLOAD="${2:?}"; shift 2 ;;
    --concurrency) CONCURRENCY="${2:?}"; shift 2 ;;
    --cache-policy | --router) PASS+=("$1" "${2:?}"); shift 2 ;;
    --skip-install) SKIP_INSTALL=true; shift ;;
    --keep-ray) KEEP_RAY=true; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; echo "error: unknown option: $1" >&2; exit 2 ;;
  esac
done

STATE="$REHEARSAL_DIR/state"
LOGS="$REHEARSAL_DIR/logs"
LOG="$LOGS/rehearsal.log"
FACTS="$STATE/facts"
STEPS="$STATE/steps.tsv"
PROVENANCE="$STATE/provenance"
mkdir -p "$STATE" "$LOGS" "$FACTS"
: >"$STEPS"
: >"$PROVENANCE"
exec > >(tee -a "$LOG") 2>&1
STEP="start"
STEP_START=$SECONDS
PROM_PID=""
RAY_STARTED=false

say() { printf '%s [rehearsal] %s\n' "$(date -u +%FT%TZ)" "$*"; }
record() {
  local detail=${4//$'\t'/ }
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${detail//$'\n'/ }" >>"$STEPS"
}
prov() { printf '%s=%s\n' "$1" "$2" >>"$PROVENANCE"; }

fail() {
  trap - ERR
  say "FAILED at step $STEP: $*"
  record "$STEP" failed "$((SECONDS - STEP_START))" "$*"
  exit 1
}

on_err() {
  local rc=$1 cmd=${2%%$'\n'*} line=$3
  trap - ERR
  fail "'${cmd:0:200}' exited $rc (line $line)"
}

# Whatever ends the run: the summary beside the results, then Prometheus and Ray stopped (unless --keep-ray).
on_exit() {
  local rc=$?
  trap - ERR
  summarize || true
  if [ -n "$PROM_PID" ] && [ "$KEEP_RAY" = false ]; then kill "$PROM_PID" 2>/dev/null || true; fi
  if [ "$RAY_STARTED" = true ] && [ "$KEEP_RAY" = false ]; then "$VENV/bin/ray" stop --force >/dev/null 2>&1 || true; fi
  say "done (exit $rc) after $((SECONDS / 60))m $((SECONDS % 60))s; log: $LOG"
  exit "$rc"
}

# step <name> <what> <function>: runs one step with its time and outcome in state/steps.tsv.
step() {
  STEP=$1
  STEP_START=$SECONDS
  say "step $1: $2"
  STEP_DETAIL=""
  "$3"
  record "$1" ok "$((SECONDS - STEP_START))" "$STEP_DETAIL"
  say "step $1: ok in $((SECONDS - STEP_START))s${STEP_DETAIL:+: $STEP_DETAIL}"
}

# tail_of <file>: its last lines, for a failure's reason.
tail_of() { tail -n 15 "$1" 2>/dev/null | tr '\n' ' ' | cut -c1-1500; }

PY="$VENV/bin/python"

step_machine() {
  local found cap seen
  "${SYSTEM_PYTHON:-python3}" "$HERE/node/rehearsal_record.py" machine --out "$STATE/machine.json" ||
    fail "cannot read the GPUs with nvidia-smi: this needs a Linux machine with NVIDIA GPUs and their driver"
  found=$("${SYSTEM_PYTHON:-python3}" -c 'import json, sys; print(json.load(open(sys.argv[1]))["gpuCount"])' "$STATE/machine.json")
  [ "$found" -eq "$GPUS" ] || fail "prepared for $GPUS GPU(s), this machine has $found: prepare again with --gpus $found"
  cap=$("${SYSTEM_PYTHON:-python3}" -c 'import json, sys; print(json.load(open(sys.argv[1]))["gpus"][0]["computeCapability"])' "$STATE/machine.json")
  CUDA_ARCH=$cap
  # The node facts every result carries name the GPU nvidia-smi reports, not the one prepare was told about.
  seen=$("${SYSTEM_PYTHON:-python3}" -c 'import json, sys; print(json.load(open(sys.argv[1]))["gpus"][0]["name"])' "$STATE/machine.json")
  if [ "$seen" != "$GPU_NAME" ]; then
    say "prepared for $GPU_NAME, this machine has $seen: the results name $seen"
    GPU_NAME=$seen
  fi
  STEP_DETAIL="$found x $GPU_NAME, compute capability $cap, $(nproc) CPUs"
}

step_venv() {
  local have
  if [ "$VENV_GIVEN" = 1 ]; then
    [ -x "$PY" ] || fail "the given venv $VENV has no bin/python"
    prov venv given
  elif [ -x "$PY" ]; then
    prov venv reused
  else
    command -v uv >/dev/null || fail "uv is not on PATH: install it (pip install uv), or pass --venv with a prepared venv"
    stack_sources
    uv venv --seed "${UV_SOURCE[@]}" --python "python$PYTHON_VERSION" "$VENV"
    prov venv built
  fi
  have=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  [ "$have" = "$PYTHON_VERSION" ] || fail "the venv's Python is $have, the pinned stack (and the cluster's DLAMI) use $PYTHON_VERSION"
  STEP_DETAIL="$VENV ($(prov_of venv)), Python $have${WHEELHOUSE:+, installs from $WHEELHOUSE with no network}"
}

prov_of() { awk -F= -v k="$1" '$1 == k { v = $2 } END { print v }' "$PROVENANCE"; }

# The node bootstrap's order: torch and LMCache's build requirements first; then LMCache builds against that torch
# while the rest of the stack installs; then the built wheel goes in (stack-install.sh).
step_install() {
  local build_log="$LOGS/lmcache-build.log" stack_log="$LOGS/stack-install.log" build_pid t0 build_rc=0 stack_rc=0
  if [ "$SKIP_INSTALL" = true ]; then
    prov lmcacheWheel installed
    STEP_DETAIL="skipped (--skip-install): the checks below verify what $VENV holds"
    return 0
  fi
  stack_install_torch "$PY" 1 >"$LOGS/torch-install.log" 2>&1 || fail "installing torch and LMCache's build requirements failed: $(tail_of "$LOGS/torch-install.log")"
  torch_cuda_of "$PY"
  say "  torch $("$PY" -c 'import torch; print(torch.__version__)') (CUDA $TORCH_CUDA); LMCache builds in the background: $build_log"
  t0=$SECONDS
  (
    trap - ERR
    set +e
    lmcache_build "$PY" "$STATE/wheels" "$CUDA_ARCH" >"$build_log" 2>&1
    rc=$?
    echo "$((SECONDS - t0))" >"$STATE/lmcache-build.seconds"
    exit "$rc"
  ) &
  build_pid=$!
  stack_install_rest "$PY" >"$stack_log" 2>&1 || stack_rc=$?
  say "  stack install (ray, vllm, nixl) ended after $((SECONDS - t0))s (exit $stack_rc); waiting for the LMCache build"
  wait "$build_pid" || build_rc=$?
  [ "$stack_rc" -eq 0 ] || fail "the stack install failed (exit $stack_rc): $(tail_of "$stack_log")"
  [ "$build_rc" -eq 0 ] || fail "the LMCache build failed (exit $build_rc): $(tail_of "$build_log")"
  lmcache_install "$PY" "$STATE/wheels" >>"$stack_log" 2>&1 || fail "installing the built LMCache wheel failed: $(tail_of "$stack_log")"
  prov lmcacheWheel built
  "$PY" - "$STATE/lmcache-build.json" "$(cat "$STATE/lmcache-build.seconds")" "$CUDA_ARCH" "$TORCH_CUDA" "$(nproc)" "$STATE/wheels" <<'PY'
import json, os, sys, zipfile
out, seconds, arch, cuda, cpus, wheels = sys.argv[1:]
wheel = next(f for f in sorted(os.listdir(wheels)) if f.endswith(".whl"))
compiled = sorted(n for n in zipfile.ZipFile(os.path.join(wheels, wheel)).namelist() if n.endswith(".so"))
json.dump({"wheel": wheel, "seconds": int(seconds), "cudaArch": arch, "torchCuda": cuda, "cpus": int(cpus),
           "sharedObjects": compiled, "source": "sdist, built by stack-install.sh lmcache_build"}, open(out, "w"), indent=1)
print(f"  lmcache wheel {wheel}: {', '.join(compiled) or 'no compiled module'}; built in {seconds}s on {cpus} CPUs")
PY
  STEP_DETAIL="stack installed; LMCache $LMCACHE_VERSION built from its sdist in $(cat "$STATE/lmcache-build.seconds")s for sm_$CUDA_ARCH"
}

step_model() {
  if [ "$MAKE_TINY_MODEL" = 1 ]; then
    "$PY" "$HERE/node/make_tiny_model.py" --out "$MODEL" --spec "$TINY_MODEL" || fail "making the tiny model failed"
    prov weights made
    STEP_DETAIL="$MODEL (random weights, made here)"
  elif [ "${MODEL#/}" != "$MODEL" ]; then
    [ -f "$MODEL/config.json" ] || fail "--model $MODEL has no config.json"
    prov weights local
    STEP_DETAIL="$MODEL (local)"
  else
    prov weights hub
    STEP_DETAIL="$MODEL (from the Hugging Face Hub when the engines start)"
  fi
}

# The environment Ray's workers (and so the engines) get, as the node's ray.env: the venv and CUDA on PATH, and the
# variables this machine's GPU stack needs (its library path, compilers, NCCL settings).
step_ray_env() {
  local v
  {
    echo "HOME=${HOME:-/root}"
    echo "PATH=$VENV/bin:/usr/local/cuda/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    echo "HF_HOME=$HF_DIR"
    if [ "$MAKE_TINY_MODEL" = 1 ] || [ "${MODEL#/}" != "$MODEL" ]; then echo "HF_HUB_OFFLINE=1"; fi
    echo "NIXL_BACKEND=$NIXL_BACKEND"
    for v in LD_LIBRARY_PATH LIBRARY_PATH CUDA_HOME CC CXX CUDAHOSTCXX LANG LC_ALL SSL_CERT_FILE; do
      if [ -n "${!v:-}" ]; then echo "$v=${!v}"; fi
    done
    # Multi-GPU machines may require these (e.g. NVLink multicast off): keep whatever the machine sets.
    env | grep -E '^(NCCL|NVSHMEM|TORCH_SYMM_MEM|CUDA_VISIBLE_DEVICES)[A-Z_]*=' || true
  } >"$STATE/ray.env"
  STEP_DETAIL="$(wc -l <"$STATE/ray.env") variables in $STATE/ray.env"
}

as_ray_worker() {
  local vars=()
  mapfile -t vars <"$STATE/ray.env"
  env -i "${vars[@]}" "$@"
}

# probe <script> <args>: a node check run as Ray's workers would run it; its verdict is the marked line.
probe() {
  local out rc=0
  out=$(as_ray_worker "$PY" "$HERE/node/$1" "${@:2}" 2>&1 </dev/null) || rc=$?
  printf '%s\n' "$out" | sed 's/^/  | /'
  PROBE_VERDICT=$(sed -n 's/^p5-ray-verdict: //p' <<<"$out" | tail -n 1)
  [ "$rc" -eq 0 ] || fail "${PROBE_VERDICT:-$1 exited $rc}"
}

step_verify() {
  probe verify_stack.py --facts "$STATE/stack.json" --gpu "ray=$RAY_VERSION" "vllm=$VLLM_VERSION" "nixl=$NIXL_VERSION" "lmcache=$LMCACHE_VERSION"
  STEP_DETAIL=$PROBE_VERDICT
}

step_nixl() {
  probe nixl_probe.py --backend "$NIXL_BACKEND" --facts "$STATE/nixl.json" --no-require-efa
  STEP_DETAIL=$PROBE_VERDICT
}

# After Ray: the facts carry the address Ray gives this node (what the evidence maps replicas to nodes with), which
# need not be the one ray start was told (on one H200 machine: its interface address, not 127.0.0.1).
step_facts() {
  local ip
  ip=$("$VENV/bin/ray" list nodes --format json 2>/dev/null | "$PY" -c 'import json, sys; print(json.load(sys.stdin)[0]["node_ip"])') ||
    fail "cannot read this node's address from ray list nodes"
  "$PY" "$HERE/node/node_facts.py" --out "$FACTS/gpu-0.json" --stack "$STATE/stack.json" --nixl "$STATE/nixl.json" \
    --provenance "$PROVENANCE" role=gpu index=0 instanceId=rehearsal "privateIp=$ip" \
    "instanceType=rehearsal: $GPUS x $GPU_NAME" "gpus=$GPUS" "gpuName=$GPU_NAME" efaDevices=0 >/dev/null
  local shared=()
  if [ "$PD_SHARES_GPUS" = 1 ]; then shared=(--pd-shares-gpus); fi
  "$PY" "$HERE/node/rehearsal_record.py" meta --state "$STATE" --out "$STATE/rehearsal-meta.json" \
    --provenance "$HERE/provenance.json" "${shared[@]}"
  STEP_DETAIL="$(cat "$FACTS/gpu-0.json")"
}

step_ray() {
  "$VENV/bin/ray" stop --force >/dev/null 2>&1 || true
  as_ray_worker "$VENV/bin/ray" start --head --node-ip-address=127.0.0.1 "--port=$RAY_GCS_PORT" "--num-gpus=$GPUS" \
    "--metrics-export-port=$RAY_METRICS_PORT" --dashboard-host=127.0.0.1 "--dashboard-port=$RAY_DASHBOARD_PORT" \
    --disable-usage-stats >"$LOGS/ray-start.log" 2>&1 || fail "ray start failed: $(tail_of "$LOGS/ray-start.log")"
  RAY_STARTED=true
  local i
  for i in $(seq 1 60); do
    if "$VENV/bin/ray" health-check --address "127.0.0.1:$RAY_GCS_PORT" >/dev/null 2>&1; then break; fi
    [ "$i" -lt 60 ] || fail "Ray did not answer ray health-check within 60 s: $(tail_of "$LOGS/ray-start.log")"
    sleep 1
  done
  STEP_DETAIL="Ray $RAY_VERSION head at 127.0.0.1:$RAY_GCS_PORT with $GPUS GPU(s), metrics on :$RAY_METRICS_PORT"
}

step_prometheus() {
  local bin=${PROMETHEUS_BIN:-} i
  if [ -z "$bin" ]; then bin=$(command -v prometheus || true); fi
  if [ -z "$bin" ] || [ ! -x "$bin" ]; then
    STEP_DETAIL="no prometheus binary (--prometheus, or on PATH): every result's evidence will say Prometheus was not reachable"
    return 0
  fi
  mkdir -p "$STATE/prometheus"
  "$bin" --config.file="$HERE/node/prometheus.yml" --storage.tsdb.path="$STATE/prometheus" \
    --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" >"$LOGS/prometheus.log" 2>&1 &
  PROM_PID=$!
  for i in $(seq 1 60); do
    if curl -sf "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" >/dev/null 2>&1; then break; fi
    [ "$i" -lt 60 ] || fail "Prometheus did not become ready within 60 s: $(tail_of "$LOGS/prometheus.log")"
    sleep 1
  done
  local version
  version=$("$bin" --version 2>&1 || true)
  STEP_DETAIL="${version%%$'\n'*} at 127.0.0.1:$PROMETHEUS_PORT, scraping Ray's metrics agent every 5 s"
}

RUN_DIR=""
step_benchmarks() {
  local args=(--workload "$WORKLOAD" --node-facts-dir "$FACTS" --no-upload --no-wait-cache-upload --keep-going
    --results-dir "$RESULTS_DIR" --meta-section "rehearsal=$STATE/rehearsal-meta.json") rc=0 d
  local -A before=()
  [ -z "$ONLY" ] || args+=(--only "$ONLY")
  [ -z "$CONCURRENCY" ] || args+=(--concurrency "$CONCURRENCY")
  args+=("${PASS[@]}")
  for d in "$RESULTS_DIR"/*/; do [ ! -d "$d" ] || before[$d]=1; done
  PATH="$VENV/bin:$PATH" HEALTH_TIMEOUT_S="${HEALTH_TIMEOUT_S:-900}" POLL_INTERVAL_S="${POLL_INTERVAL_S:-5}" \
    SHUTDOWN_TIMEOUT_S="${SHUTDOWN_TIMEOUT_S:-300}" "$SERVE_BUNDLE/run_all.sh" "${args[@]}" || rc=$?
  # run_all.sh makes one <UTC timestamp> folder per run: the new one is this run's.
  for d in "$RESULTS_DIR"/*/; do
    if [ -d "$d" ] && [ -z "${before[$d]:-}" ]; then RUN_DIR=${d%/}; fi
  done
  [ -n "$RUN_DIR" ] || fail "run_all.sh made no run folder (exit $rc)"
  cp "$LOG" "$RUN_DIR/rehearsal.log"
  [ "$rc" -eq 0 ] || fail "run_all.sh exited $rc: $(cat "$RUN_DIR/failures.json" 2>/dev/null || echo 'it stopped before its configurations ran') (results so far in $RUN_DIR)"
  STEP_DETAIL="every configuration ran; results in $RUN_DIR"
}

summarize() {
  # Ray's own logs (Serve's controller and replicas, the engines' workers): where an engine's minutes went.
  if [ -d /tmp/ray/session_latest/logs ]; then
    tar czf "$LOGS/ray-logs.tar.gz" -C /tmp/ray/session_latest logs 2>/dev/null || true
  fi
  [ -n "$RUN_DIR" ] || return 0
  cp "$LOG" "$RUN_DIR/rehearsal.log"
  "$PY" "$HERE/node/rehearsal_record.py" summary --state "$STATE" --log "$LOG" --run-dir "$RUN_DIR" \
    --provenance "$HERE/provenance.json" || true
  cp "$LOG" "$RUN_DIR/rehearsal.log"
  say "compare the configurations with: npm run report -- $RUN_DIR"
}

# shellcheck source=/dev/null  # lib/bootstrap/scripts/stack-install.sh, copied beside this script
. "$HERE/node/stack-install.sh"

say "rehearsal of the p5-ray pipeline in $REHEARSAL_DIR: $GPUS x $GPU_NAME, model $MODEL, prepared from $(sed -n 's/.*"commit": *"\([^"]*\)".*/\1/p' "$HERE/provenance.json")"
trap 'on_err $? "$BASH_COMMAND" $LINENO' ERR
trap on_exit EXIT
step machine "the GPUs, CPUs and memory of this machine" step_machine
step venv "the Python environment" step_venv
step install "the pinned stack, and LMCache from its sdist (the node bootstrap's stack-install.sh)" step_install
step model "the model" step_model
step ray-env "the environment of Ray's workers" step_ray_env
step verify "verify_stack.py: versions, imports, LMCache's compiled kernels" step_verify
step nixl "nixl_probe.py: which fabric NIXL uses here" step_nixl
step ray "a local Ray head" step_ray
step facts "the node facts every result carries" step_facts
step prometheus "Prometheus for the evidence" step_prometheus
step benchmarks "run_all.sh: every configuration, both workloads" step_benchmarks
