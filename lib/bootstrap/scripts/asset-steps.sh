# shellcheck shell=bash
# shellcheck disable=SC2154,SC2034  # settings come from cluster.env; variables set here are read by the main script
#
# The bootstrap's later part, shipped in the stack's CDK asset with the node-side Python (the user data holds what
# runs before the node can read S3: lib.sh, steps.sh, bootstrap-node.sh) and sourced by step_python: the background
# jobs (model download, stack install, LMCache build, with the deploy cache), the checks under the Ray workers'
# environment, Ray, and the timing summaries. It replaces lib.sh's no-op jobs_check, stop_jobs and node_timing.

# shellcheck source=monitoring-steps.sh
. "$BIN_DIR/monitoring-steps.sh"
# shellcheck source=stack-install.sh
. "$BIN_DIR/stack-install.sh"

# as_ray_worker <command…>: runs a command with exactly the environment ray.service gives Ray's workers (systemd's
# EnvironmentFile), and nothing inherited from cloud-init.
as_ray_worker() {
  local vars=()
  mapfile -t vars <"$RAY_ENV_FILE"
  env -i "${vars[@]}" "$@"
}

# run_probe <script in this directory> <args…>: a node-side Python check, run as a Ray worker would run it. All
# of its output goes to the bootstrap log; its verdict (PROBE_VERDICT) is the line marked "p5-ray-verdict: ", or
# the last line when it died without one (a traceback), and the failure reason if it exits non-zero.
run_probe() {
  local out rc=0 mark=$'\n''p5-ray-verdict: '
  out=$(as_ray_worker "$VENV_DIR/bin/python" "$BIN_DIR/$1" "${@:2}" 2>&1 </dev/null) || rc=$?
  printf '%s\n' "$out"
  out=$'\n'$out
  if [[ $out == *"$mark"* ]]; then
    PROBE_VERDICT=${out##*"$mark"}
    PROBE_VERDICT=${PROBE_VERDICT%%$'\n'*}
  else
    PROBE_VERDICT=${out##*$'\n'}
  fi
  [ "$rc" -eq 0 ] || fail "${PROBE_VERDICT:0:600}${PROBE_NOTE:-}"
}

# shellcheck disable=SC2030  # the job's own JOB, in its subshell: that is the point
# run_job <name> <function>: runs the function in the background with its own log (jobs/<name>.log); it leaves
# jobs/<name>.ok, or jobs/<name>.failed with its reason, for jobs_check. A job never signals: the main script does.
run_job() {
  mkdir -p "$JOBS_DIR"
  (
    JOB=$1 JOB_LEVEL=$BASH_SUBSHELL CW_SHIPPER=0 WAIT_NOTE=""
    exec 3>&1 >>"$JOBS_DIR/$1.log" 2>&1 </dev/null
    mark job "$1" start
    say "started (${SECONDS}s)"
    "$2"
    mark job "$1" end
    say "done (${SECONDS}s)"
    : >"$JOBS_DIR/$1.ok"
  ) &
  JOB_PIDS[$1]=$!
  JOB_ORDER+=("$1")
}

# shellcheck disable=SC2031  # JOB as the job's subshell set it
job_failed() {
  printf '%s\n' "$1" >"$JOBS_DIR/$JOB.failed"
  mark job "$JOB" failed
  say "failed (${SECONDS}s): $1"
  exit 1
}

# True once every job is done; fails the node with the first failed job's reason (in start order), or when a job
# ended without a result (killed, or set -u).
jobs_check() {
  local j rc pending=()
  for j in "${JOB_ORDER[@]}"; do
    [ ! -e "$JOBS_DIR/$j.ok" ] || continue
    [ ! -e "$JOBS_DIR/$j.failed" ] || fail "job $j failed: $(<"$JOBS_DIR/$j.failed")"
    if ! kill -0 "${JOB_PIDS[$j]}" 2>/dev/null; then
      rc=0
      wait "${JOB_PIDS[$j]}" || rc=$?
      [ -e "$JOBS_DIR/$j.ok" ] || [ -e "$JOBS_DIR/$j.failed" ] ||
        fail "job $j ended without a result (exit $rc): $(last_output "$JOBS_DIR/$j.log")"
      continue
    fi
    pending+=("$j")
  done
  WAIT_NOTE="running: ${pending[*]}"
  [ "${#pending[@]}" -eq 0 ]
}

stop_jobs() {
  local j p
  for j in "${JOB_ORDER[@]}"; do
    # Only jobs still pending: a finished job's PID may have been reused.
    if [ -e "$JOBS_DIR/$j.ok" ] || [ -e "$JOBS_DIR/$j.failed" ]; then continue; fi
    p=${JOB_PIDS[$j]}
    # shellcheck disable=SC2046  # one pid per word
    kill -TERM $(ps -e -o pid=,ppid= | awk -v root="$p" '
      { parent[$1] = $2 }
      END { for (q in parent) { r = q; while (r in parent && parent[r] != root) r = parent[r]; if (r in parent) print q } }') \
      "$p" 2>/dev/null || true
  done
}

# after <file in jobs/>: whether another job got that far; a failed stack install ends the jobs waiting for it.
after() {
  [ ! -e "$JOBS_DIR/stack-install.failed" ] || fail "stack-install failed"
  [ -e "$JOBS_DIR/$1" ]
}

# The long work, side by side: the model download (GPU nodes) starts at once in its own small environment, the
# stack installs torch first, and LMCache is built against that torch while the rest of the stack installs.
step_jobs() {
  [ "$ON_GPU" = 0 ] || run_job model-download job_model
  run_job stack-install job_stack
  [ "$ON_GPU" = 0 ] || run_job lmcache-build job_lmcache
  # The exporters (GPU nodes) and Prometheus and Grafana (the Ray head): monitoring-steps.sh.
  run_job monitoring job_monitoring
  say "  ${JOB_ORDER[*]} running in the background${CACHE_BUCKET:+ (deploy cache s3://$CACHE_BUCKET/$CACHE_PREFIX)}"
}

step_join() {
  local limit
  limit=$(time_left)
  wait_for "${JOB_ORDER[*]}" "$limit" jobs_check || fail "still running at the deadline: $WAIT_NOTE"
  say "  venv $(prov_of venv)$([ "$ON_GPU" = 0 ] || echo ", lmcache wheel $(prov_of lmcacheWheel), weights $(prov_of weights)")"
}

# cache_try <venv|wheel|weights> <args…>: restores an entry of the deploy cache (deploy_cache.py); false on a miss,
# a mismatch or any error, each said with its reason, after which the caller takes the normal path.
cache_try() {
  [ -n "$CACHE_BUCKET" ] || return 1
  local out rc=0
  out=$("$PY" "$BIN_DIR/deploy_cache.py" --bucket "$CACHE_BUCKET" --prefix "$CACHE_PREFIX" restore "$@" 2>&1 </dev/null) || rc=$?
  printf '%s\n' "$out"
  say "cache $1: ${out##*$'\n'}"
  return "$rc"
}

venv_fields() {
  printf '%s\n' "ray=$RAY_VERSION" "vllm=$VLLM_VERSION" "nixl=$NIXL_VERSION" "torch=$TORCH_VERSION"
  [ "$ON_GPU" = 0 ] || printf '%s\n' "lmcache=$LMCACHE_VERSION" "arch=$CUDA_ARCH"
}

job_stack() {
  local fields=() py="$VENV_DIR/bin/python"
  mapfile -t fields < <(venv_fields)
  if cache_try venv --kind "$VENV_KIND" --dest "$VENV_DIR" --scratch "$SCRATCH" "${fields[@]}"; then
    prov venv cache
    : >"$JOBS_DIR/torch.ready"
    return 0
  fi
  prov venv built
  need_internet PyPI "$PYPI_URL"
  uv venv --seed --python "$PY" "$VENV_DIR"
  stack_install_torch "$py" "$ON_GPU"
  : >"$JOBS_DIR/torch.ready"
  stack_install_rest "$py"
}

# LMCache runs only inside the vLLM engines on GPU nodes. Its wheels' CUDA extension is built against an older torch
# than vLLM's, so it is compiled here against the torch just installed, for this GPU's architecture only.
job_lmcache() {
  # Waits for a sibling job, which has its own bounds (and the watchdog stops everything at the deadline).
  wait_for "torch in the venv" "$BOOTSTRAP_TIMEOUT_SECONDS" after torch.ready || fail "torch was not installed"
  if [ "$(prov_of venv)" = cache ]; then
    prov lmcacheWheel venv
    say "lmcache came with the venv from the cache"
    return 0
  fi
  local wheels="$SCRATCH/wheels" fields
  torch_cuda_of "$VENV_DIR/bin/python"
  fields=("lmcache=$LMCACHE_VERSION" "torch=$TORCH_VERSION" "cuda=$TORCH_CUDA" "arch=$CUDA_ARCH")
  printf '%s\n' "${fields[@]}" >"$STATE_DIR/wheel-fields"
  if cache_try wheel --dest "$wheels" "${fields[@]}"; then
    prov lmcacheWheel cache
  else
    prov lmcacheWheel built
    need_internet PyPI "$PYPI_URL"
    lmcache_build "$VENV_DIR/bin/python" "$wheels" "$CUDA_ARCH"
  fi
  # One installer at a time in the venv.
  wait_for "the stack install" "$BOOTSTRAP_TIMEOUT_SECONDS" after stack-install.ok || fail "the stack install did not end"
  need_internet PyPI "$PYPI_URL"
  lmcache_install "$VENV_DIR/bin/python" "$wheels"
}

# shellcheck disable=SC2031  # JOB as run_job's subshell set it
job_model() {
  local token_file="$CONF_DIR/hf_token" dl="$SCRATCH/hf-env" secret
  need_internet "Hugging Face" "$HF_URL"
  if [ -n "$HF_TOKEN_SECRET_ARN" ]; then
    secret=$(aws secretsmanager get-secret-value --secret-id "$HF_TOKEN_SECRET_ARN" --query SecretString --output text)
    # A key/value secret from the console arrives as JSON: take its first value.
    case $secret in \{*) secret=$(sed -E 's/^\{[^:]*:[[:space:]]*"([^"]*)".*/\1/' <<<"$secret") ;; esac
    (umask 077 && printf '%s' "$secret" >"$token_file")
    export HF_TOKEN_PATH="$token_file"
  fi
  if cache_try weights --repo "$MODEL" --hf-home "$R$HF_DIR" --provenance "$PROVENANCE" ${HF_TOKEN_PATH:+--token-file "$HF_TOKEN_PATH"}; then
    prov weights cache
    return 0
  fi
  prov weights downloaded
  uv venv --python "$PY" "$dl"
  # This environment is on the NVMe, uv's cache on the root volume: hard links cannot cross filesystems, so copy
  # (without it uv warns "Failed to hardlink files" and copies anyway).
  UV_LINK_MODE=copy uv pip install --python "$dl/bin/python" "huggingface_hub==$HF_HUB_VERSION" "hf_xet==$HF_XET_VERSION"
  HF_HOME="$R$HF_DIR" HF_XET_HIGH_PERFORMANCE=1 "$dl/bin/python" "$BIN_DIR/download_model.py" "$MODEL" \
    >"$STATE_DIR/model-path" </dev/null || fail "$MODEL download failed: $(<"$STATE_DIR/model-path") $(last_output "$JOBS_DIR/$JOB.log")"
  prov modelRevision "$(basename "$(<"$STATE_DIR/model-path")")"
  say "$MODEL cached in $HF_DIR ($(du -sh "$R$HF_DIR" 2>/dev/null | cut -f1))"
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
    if [ "$IS_RAY_HEAD" = 1 ]; then
      # The Ray dashboard's metrics views query these (Ray docs, "Embedding Grafana visualizations into Ray Dashboard").
      echo "RAY_PROMETHEUS_HOST=http://127.0.0.1:$PROMETHEUS_PORT"
      echo "RAY_GRAFANA_HOST=http://127.0.0.1:$GRAFANA_PORT"
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
  # A venv from the deploy cache passes exactly this check, or the node fails saying where the venv came from.
  PROBE_NOTE=" (venv $(prov_of venv))"
  run_probe verify_stack.py --facts "$STATE_DIR/stack.json" "${gpu[@]}" "${pins[@]}"
  PROBE_NOTE=""
  STACK_SUMMARY=$PROBE_VERDICT
  say "  $STACK_SUMMARY"
  # The model-download job's result is its .ok file; this checks the weights themselves, as vLLM will resolve them.
  [ "$ON_GPU" = 0 ] || weights_usable
}

weights_usable() {
  local out rc=0
  out=$(HF_HOME="$R$HF_DIR" "$PY" "$BIN_DIR/download_model.py" --check "$MODEL" 2>&1 </dev/null) || rc=$?
  [ "$rc" -eq 0 ] || fail "the model weights are not usable (weights $(prov_of weights)): ${out##*$'\n'}"
  say "  $out"
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
    --nixl "$STATE_DIR/nixl.json" --provenance "$PROVENANCE" "role=$ROLE" "index=$GPU_INDEX" "instanceId=$INSTANCE_ID" "privateIp=$PRIVATE_IP" \
    "instanceType=$INSTANCE_TYPE" "gpus=$GPU_COUNT" "gpuName=$GPU_NAME" "efaDevices=$EFA_COUNT" </dev/null >/dev/null
  aws s3 cp --only-show-errors "$facts" "s3://$BUCKET/$key"
  say "  $(<"$facts")"
  say "  written to $NODE_FACTS and s3://$BUCKET/$key"
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
  # A fixed metrics port on every node (else Ray picks one at random): Prometheus on the head scrapes it.
  local args=(start --block "--node-ip-address=$PRIVATE_IP" "--metrics-export-port=$RAY_METRICS_PORT")
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

# The S3 URL of the current serve bundle, from its SSM parameter (the user data names the parameter, never the
# bundle: a new bundle must not change the user data). Sets BUNDLE_URL.
read_bundle_url() {
  local out
  out=$(aws ssm get-parameter --name "$SERVE_BUNDLE_PARAMETER" --query Parameter.Value --output text 2>&1) &&
    [[ $out == s3://* ]] && BUNDLE_URL=$out && return 0
  WAIT_NOTE=${out:0:200}
  return 1
}

step_serve() {
  mkdir -p "$SERVE_DIR"
  local zip="$STATE_DIR/serve-bundle.zip" unpacked="$STATE_DIR/serve-bundle" n limit
  # SSM answers through the VPC's interface endpoint or the NAT route, whichever exists first.
  limit=$(min "$(time_left)" "$NET_WAIT")
  wait_for "the serve bundle's URL (SSM parameter $SERVE_BUNDLE_PARAMETER)" "$limit" read_bundle_url ||
    fail "cannot read the SSM parameter $SERVE_BUNDLE_PARAMETER within ${limit}s: $WAIT_NOTE"
  # The bundle is the stack's CDK asset: uploaded by `cdk deploy` before the stack starts, so it is always there.
  aws s3 cp --only-show-errors "$BUNDLE_URL" "$zip"
  rm -rf "$unpacked"
  "$PY" -m zipfile -e "$zip" "$unpacked/" </dev/null
  # The same installer run_all.sh uses for a later bundle: files replaced one by one, the source recorded.
  "$PY" "$unpacked/bundle_sync.py" install --zip "$zip" --dir "$SERVE_DIR" --source "$BUNDLE_URL" \
    --parameter "$SERVE_BUNDLE_PARAMETER" </dev/null >/dev/null || fail "installing the serve bundle $BUNDLE_URL failed"
  n=$(find "$SERVE_DIR" -type f | grep -c . || true)
  [ "$n" -gt 1 ] || fail "the serve bundle $BUNDLE_URL is empty"
  if [ "$IS_RAY_HEAD" = 1 ]; then
    # A copy in the artifacts bucket, beside the results it produces.
    aws s3 cp --only-show-errors --recursive "$SERVE_DIR/" "s3://$BUCKET/$SERVE_PREFIX"
  fi
  say "  $n files in $SERVE_BUNDLE (from $BUNDLE_URL)"
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

# The one-line summary of where this node's minutes went (timing.py), left as JSON for the Ray head's cluster line.
node_timing() {
  [ -f "$BIN_DIR/timing.py" ] && [ -n "${LAUNCHED:-}" ] || return 0
  local out
  out=$("$PY" "$BIN_DIR/timing.py" node --tsv "$TIMING" --node "$ROLE-$GPU_INDEX" --launched "$LAUNCHED" \
    --started "$START_EPOCH" --provenance "$PROVENANCE" --out "$STATE_DIR/timing.json" 2>&1 </dev/null) || return 0
  say "timing: $out"
}

# The Ray head, once every GPU is in: every node's timing (each uploads it just before signalling), in one line.
cluster_timing() {
  local files=() key
  for key in $([ "$ROLE" = gpu ] || echo head-0) $(seq -f 'gpu-%g' 0 $((GPU_NODES - 1))); do
    files+=("$STATE_DIR/timing-$key.json")
    wait_for "the timing of $key" "${P5RAY_TIMING_WAIT:-120}" s3_get "s3://$BUCKET/$NODE_FACTS_PREFIX$key.timing.json" \
      "${files[-1]}" || true
  done
  say "cluster timing: $("$PY" "$BIN_DIR/timing.py" cluster "${files[@]}" 2>&1 </dev/null || true)"
}

# After SUCCESS, detached (systemd-run): this node's first-boot results go into the deploy cache, without holding
# up readiness. The first GPU node uploads the GPU venv, the LMCache wheel and the weights; the CPU head its venv.
cache_upload() {
  JOB=cache-upload
  trap 'on_err $? "$BASH_COMMAND" $LINENO' ERR
  exec 3>>"$LOG_FILE" >>"$JOBS_DIR/$JOB.log" 2>&1 </dev/null
  local up=("$PY" "$BIN_DIR/deploy_cache.py" --bucket "$CACHE_BUCKET" --prefix "$CACHE_PREFIX" upload) fields=()
  UPLOAD_FAILED=""
  # Whatever ends it (an error, a signal), the marker does not stay "running" for run_all.sh to wait on.
  trap 'cache_upload_state failed "ended unexpectedly: see jobs/cache-upload.log"' EXIT
  say "started"
  if [ "$(prov_of venv)" = built ]; then
    mapfile -t fields < <(venv_fields)
    uploaded venv --kind "$VENV_KIND" --src "$VENV_DIR" --scratch "$SCRATCH" "${fields[@]}"
  fi
  if [ "$(prov_of lmcacheWheel)" = built ]; then
    mapfile -t fields <"$STATE_DIR/wheel-fields"
    uploaded wheel --src "$SCRATCH/wheels" "${fields[@]}"
  fi
  [ "$(prov_of weights)" != downloaded ] || uploaded weights --repo "$MODEL" --hf-home "$R$HF_DIR" --revision "$(prov_of modelRevision)"
  trap - EXIT
  if [ -n "$UPLOAD_FAILED" ]; then cache_upload_state failed "$UPLOAD_FAILED"; else cache_upload_state "done"; fi
  say "done${UPLOAD_FAILED:+ (failed: $UPLOAD_FAILED)}"
  cw_flush now
}

uploaded() {
  local out rc=0
  out=$("${up[@]}" "$@" 2>&1) || rc=$?
  printf '%s\n' "$out"
  say "$1: ${out##*$'\n'}"
  [ "$rc" -eq 0 ] || UPLOAD_FAILED+="${UPLOAD_FAILED:+; }$1: ${out##*$'\n'}"
}

# cache_upload_state <running|done|failed> [detail]: the upload's marker beside the node facts
# (cluster/nodes/<role>-<index>.cache-upload.json), which run_all.sh waits on before the first benchmark. Never fatal.
cache_upload_state() {
  local file="$STATE_DIR/cache-upload.json" now started
  now=$(date -u +%FT%TZ)
  started=$(json_field started "$(cat "$file" 2>/dev/null || true)")
  printf '{"node":"%s","state":"%s","unit":"p5-ray-cache-upload","started":"%s","updated":"%s","detail":%s}\n' \
    "$ROLE-$GPU_INDEX" "$1" "${started:-$now}" "$now" "$(json_str "${2:-}")" >"$file"
  aws s3 cp --only-show-errors "$file" "s3://$BUCKET/$NODE_FACTS_PREFIX$ROLE-$GPU_INDEX.cache-upload.json" ||
    say "could not write the deploy-cache upload's state ($1) to s3://$BUCKET/$NODE_FACTS_PREFIX"
}
