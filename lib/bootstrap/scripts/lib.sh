# shellcheck shell=bash
# shellcheck disable=SC2154  # ROLE, GPU_INDEX, SIGNAL_URL, LOG_GROUP… come from cluster.env, sourced before this file
#
# Shared by the node bootstrap: progress lines (stdout → bootstrap log, and CloudWatch Logs), the one readiness
# signal to CloudFormation, the failure traps and bounded waits.

# Tests point P5RAY_ROOT at a temp dir; on a node it is unset, so every path below is the real one.
R="${P5RAY_ROOT:-}"
IMDS="${P5RAY_IMDS_URL:-http://169.254.169.254}"
WAIT_INTERVAL="${P5RAY_WAIT_INTERVAL:-10}"
PROGRESS_EVERY="${P5RAY_PROGRESS_EVERY:-60}"
STATE_DIR="$R$NODE_ROOT/state"
SIGNALLED="$STATE_DIR/signalled"
STEP="0/0 (starting)"
INSTANCE_ID=""
CW_STREAM=""
CW_PENDING=()
WAIT_NOTE=""

say() {
  local line="[bootstrap $ROLE $GPU_INDEX] $*"
  printf '%s %s\n' "$(date -u +%FT%TZ)" "$line"
  CW_PENDING+=("$(date +%s%3N) $line")
}

json_str() {
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\t'/ }
  s=${s//$'\r'/}
  printf '"%s"' "$(printf '%s' "$s" | tr -d '\000-\037')"
}

# Batched, and never fatal: losing a log line must not fail a node that is otherwise fine. Lines wait in
# CW_PENDING until the AWS CLI exists (it may be installed by a later step).
cw_flush() {
  # The stream is named after the instance: hold lines until its id is known, unless signalling.
  if [ -z "$INSTANCE_ID" ] && [ "${1:-}" != now ]; then return 0; fi
  if [ -z "${LOG_GROUP:-}" ] || [ "${#CW_PENDING[@]}" -eq 0 ] || ! command -v aws >/dev/null; then return 0; fi
  if [ -z "$CW_STREAM" ]; then
    CW_STREAM="$ROLE-$GPU_INDEX/${INSTANCE_ID:-unknown}"
    aws logs create-log-stream --log-group-name "$LOG_GROUP" --log-stream-name "$CW_STREAM" >/dev/null 2>&1 || true
  fi
  local events="" e
  for e in "${CW_PENDING[@]}"; do
    events+="${events:+,}{\"timestamp\":${e%% *},\"message\":$(json_str "${e#* }")}"
  done
  if aws logs put-log-events --log-group-name "$LOG_GROUP" --log-stream-name "$CW_STREAM" \
    --log-events "[$events]" >/dev/null 2>&1; then
    CW_PENDING=()
  fi
}

# Exactly once per node: the marker is created with noclobber because the ERR trap also fires inside subshells.
signal() {
  local status=$1 reason=${2:0:900} data=${3:-}
  mkdir -p "$STATE_DIR"
  if ! (set -o noclobber; : >"$SIGNALLED") 2>/dev/null; then return 0; fi
  say "signalling $status to CloudFormation: $reason"
  cw_flush now
  local body
  body="{\"Status\":\"$status\",\"Reason\":$(json_str "$reason"),\"UniqueId\":$(json_str "${INSTANCE_ID:-$ROLE-$GPU_INDEX}"),\"Data\":$(json_str "$data")}"
  curl -fsS --retry 8 --retry-all-errors --retry-delay 5 --max-time 30 \
    -X PUT -H 'Content-Type:' --data-binary "$body" "$SIGNAL_URL" >/dev/null ||
    say "could not reach the CloudFormation signal URL: the stack will wait for its timeout"
  cw_flush
}

where_logs() {
  printf 'log: %s on the node, CloudWatch %s stream %s' "$BOOTSTRAP_LOG" "$LOG_GROUP" "${CW_STREAM:-$ROLE-$GPU_INDEX/${INSTANCE_ID:-unknown}}"
}

# A check's own verdict, carrying the numbers it compared, so the CloudFormation event says what is wrong.
fail() {
  trap - ERR
  say "FAILED: $*"
  signal FAILURE "step $STEP: $*"
  exit 1
}

on_err() {
  local rc=$1 cmd=${2%%$'\n'*} line=$3 out
  # Inside $(…) the trap fires in the subshell too (set -E), where its output would vanish into the captured
  # value: leave the report to the parent, which sees the same failure.
  if [ "$BASH_SUBSHELL" -gt 0 ]; then exit "$rc"; fi
  trap - ERR
  # The failing command's own last words (a pip resolver error, an ImportError) say more than our lines.
  out=$(grep -v '\[bootstrap ' "$LOG_FILE" 2>/dev/null | tail -n 3 | cut -c1-200 | tr '\n' ' ' || true)
  signal FAILURE "step $STEP failed: '${cmd:0:160}' exited $rc (line $line). Last output: ${out:-none} ($(where_logs))"
  exit "$rc"
}

# set -u and signals end the script without an ERR trap; this still reports, unless a signal was already sent.
on_exit() {
  local rc=$?
  [ -e "$SIGNALLED" ] || signal FAILURE "step $STEP: bootstrap ended unexpectedly (exit $rc; $(where_logs))"
}

install_traps() {
  trap 'on_err $? "$BASH_COMMAND" $LINENO' ERR
  trap on_exit EXIT
  trap 'exit 143' TERM INT HUP
}

# The WaitCondition timeout less a margin: a wait gives up here, with a reason, before CloudFormation times out.
time_left() {
  local left=$((DEADLINE - SECONDS))
  echo $((left > 0 ? left : 0))
}

# wait_for <what> <seconds> <command…>: polls until the command succeeds, with a progress line now and then
# (the command may leave a note on what it saw in WAIT_NOTE).
wait_for() {
  local what=$1 limit=$2 start=$SECONDS last=$SECONDS
  shift 2
  until "$@"; do
    if ((SECONDS - last >= PROGRESS_EVERY)); then
      say "  waiting for $what ($((SECONDS - start))s of at most ${limit}s)${WAIT_NOTE:+: $WAIT_NOTE}"
      cw_flush
      last=$SECONDS
    fi
    if ((SECONDS - start >= limit)); then return 1; fi
    sleep "$WAIT_INTERVAL"
  done
}

imds() {
  curl -fsS --max-time 5 --retry 5 --retry-connrefused -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" \
    "$IMDS/latest/meta-data/$1"
}
