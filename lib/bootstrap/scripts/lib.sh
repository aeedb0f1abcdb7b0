# shellcheck shell=bash
# shellcheck disable=SC2154  # ROLE, GPU_INDEX, SIGNAL_URL, LOG_GROUP… come from cluster.env, sourced before this file
#
# Shared by the node bootstrap: progress lines (stdout → bootstrap log, and CloudWatch Logs), the one readiness
# signal to CloudFormation, the failure traps, the deadline and bounded waits, the background jobs, the network
# waits, and the marks the timing summary is computed from.
#
# No pipeline here or in the steps ends in a reader that may stop early (head, grep -q, …): under pipefail and the
# ERR trap, the writer's SIGPIPE would fail a healthy node. Use parameter expansion or here-strings instead
# (test/bootstrap/no-sigpipe.test.ts checks this).

# Tests point P5RAY_ROOT at a temp dir; on a node it is unset, so every path below is the real one.
R="${P5RAY_ROOT:-}"
IMDS="${P5RAY_IMDS_URL:-http://169.254.169.254}"
WAIT_INTERVAL="${P5RAY_WAIT_INTERVAL:-10}"
PROGRESS_EVERY="${P5RAY_PROGRESS_EVERY:-60}"
# The watchdog stops a step still running this long after the deadline: waits give up at the deadline with their
# own reason first, and the margin after it is still left for the signal.
WATCHDOG_GRACE="${P5RAY_WATCHDOG_GRACE:-60}"
# The longest wait for a network path (S3, the NAT route): a NAT gateway can take 10 minutes to become available.
NET_WAIT="${P5RAY_NET_WAIT:-900}"
STATE_DIR="$R$NODE_ROOT/state"
SIGNALLED="$STATE_DIR/signalled"
DEADLINE_PASSED="$STATE_DIR/deadline-passed"
JOBS_DIR="$STATE_DIR/jobs"
# Progress lines on their way to CloudWatch: a file, because background jobs write them too.
CW_SPOOL="$STATE_DIR/cw-spool"
# "kind<TAB>name<TAB>start|end|failed<TAB>epoch ms" per step and job: what timing.py sums up.
TIMING="$STATE_DIR/timing.tsv"
# name=value: where the venv, the LMCache wheel and the weights came from (cache, built, downloaded).
PROVENANCE="$STATE_DIR/provenance"
STEP="0/0 (starting)"
INSTANCE_ID=""
CW_STREAM=""
CW_READY=0
CW_RETRY_AT=0
CW_SHIPPER=1
WAIT_NOTE=""
DEADLINE=""
WATCHDOG_PID=""
MAIN_PID=$$
JOB=""
JOB_LEVEL=0
# shellcheck disable=SC2034  # the background jobs (asset-steps.sh)
JOB_ORDER=()
# shellcheck disable=SC2034
declare -A JOB_PIDS=()

# In a background job the line says which, and goes to the bootstrap's output (fd 3) besides the job's own log.
say() {
  local line="[bootstrap $ROLE $GPU_INDEX] ${JOB:+job $JOB: }$*"
  printf '%s %s\n' "$(date -u +%FT%TZ)" "$line"
  [ -z "$JOB" ] || printf '%s %s\n' "$(date -u +%FT%TZ)" "$line" >&3
  printf '%s %s\n' "$(date +%s%3N)" "$line" >>"$CW_SPOOL"
}

# Replaced by asset-steps.sh once the node has it: until then there are no jobs and nothing to sum up.
jobs_check() { :; }
stop_jobs() { :; }
node_timing() { :; }

mark() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$(date +%s%3N)" >>"$TIMING"; }
prov() { printf '%s=%s\n' "$1" "$2" >>"$PROVENANCE"; }
prov_of() { awk -F= -v k="$1" '$1 == k { v = $2 } END { print v }' "$PROVENANCE" 2>/dev/null || true; }
min() { echo $(($1 < $2 ? $1 : $2)); }

json_str() {
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\t'/ }
  s=${s//$'\r'/}
  printf '"%s"' "$(printf '%s' "$s" | tr -d '\000-\037')"
}

# json_field <key> <json>: a top-level string value of a small flat JSON document (IMDS, the probes' facts).
json_field() {
  sed -nE "s/.*\"$1\" *: *\"([^\"]*)\".*/\\1/p" <<<"$2"
}

# Batched, and never fatal: losing a log line must not fail a node that is otherwise fine. Lines wait in the spool
# until the AWS CLI exists and CloudWatch answers (through the NAT: the nodes launch before it is there). One process
# ships them; while CloudWatch does not answer, it tries again every 30 s, with short timeouts.
cw_flush() {
  [ "$CW_SHIPPER" = 1 ] || return 0
  # The stream is named after the instance: hold lines until its id is known, unless signalling.
  if [ -z "$INSTANCE_ID" ] && [ "${1:-}" != now ]; then return 0; fi
  if [ -z "${LOG_GROUP:-}" ] || ! command -v aws >/dev/null; then return 0; fi
  if [ "${1:-}" != now ] && ((SECONDS < CW_RETRY_AT)); then return 0; fi
  if [ -s "$CW_SPOOL" ]; then
    mv "$CW_SPOOL" "$CW_SPOOL.new"
    cat "$CW_SPOOL.new" >>"$CW_SPOOL.out"
    rm -f "$CW_SPOOL.new"
  fi
  [ -s "$CW_SPOOL.out" ] || return 0
  CW_STREAM="$ROLE-$GPU_INDEX/${INSTANCE_ID:-unknown}"
  local events="" e out lines=() to=(--cli-connect-timeout 3 --cli-read-timeout 20)
  if [ "$CW_READY" = 0 ]; then
    out=$(AWS_MAX_ATTEMPTS=1 aws logs create-log-stream --log-group-name "$LOG_GROUP" --log-stream-name "$CW_STREAM" "${to[@]}" 2>&1) ||
      [[ $out == *ResourceAlreadyExists* ]] || { CW_RETRY_AT=$((SECONDS + 30)); return 0; }
    CW_READY=1
  fi
  # CloudWatch takes a batch only in time order; the jobs' lines interleave with the main ones.
  mapfile -t lines < <(sort -s -n -k1,1 "$CW_SPOOL.out")
  for e in "${lines[@]}"; do
    events+="${events:+,}{\"timestamp\":${e%% *},\"message\":$(json_str "${e#* }")}"
  done
  if AWS_MAX_ATTEMPTS=1 aws logs put-log-events --log-group-name "$LOG_GROUP" --log-stream-name "$CW_STREAM" \
    --log-events "[$events]" "${to[@]}" >/dev/null 2>&1; then
    rm -f "$CW_SPOOL.out"
  else
    CW_RETRY_AT=$((SECONDS + 30))
  fi
}

# Exactly once per node: the marker is created with noclobber because the ERR trap also fires inside subshells.
signal() {
  local status=$1 reason=${2:0:900} data=${3:-}
  [ -z "$JOB" ] || return 0
  mkdir -p "$STATE_DIR"
  if ! (set -o noclobber; : >"$SIGNALLED") 2>/dev/null; then return 0; fi
  stop_jobs
  [ "$status" = SUCCESS ] || node_timing
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
  [ -z "$JOB" ] || job_failed "$*"
  say "FAILED: $*"
  signal FAILURE "step $STEP: $*"
  exit 1
}

# The failing command's own last words (a pip resolver error, an ImportError) say more than our lines.
last_output() {
  local lines=() i out=""
  mapfile -t lines < <(grep -v '\[bootstrap ' "$1" 2>/dev/null || true)
  for ((i = ${#lines[@]} > 3 ? ${#lines[@]} - 3 : 0; i < ${#lines[@]}; i++)); do out+="${lines[i]:0:200} "; done
  echo "${out:-none}"
}

on_err() {
  local rc=$1 cmd=${2%%$'\n'*} line=$3
  # Inside $(…) the trap fires in the subshell too (set -E), where its output would vanish into the captured
  # value: leave the report to the parent (the job, or the main script), which sees the same failure.
  if [ "$BASH_SUBSHELL" -gt "$JOB_LEVEL" ]; then exit "$rc"; fi
  trap - ERR
  [ -z "$JOB" ] || job_failed "'${cmd:0:160}' exited $rc (line $line). Last output: $(last_output "$JOBS_DIR/$JOB.log")"
  signal FAILURE "step $STEP failed: '${cmd:0:160}' exited $rc (line $line). Last output: $(last_output "$LOG_FILE") ($(where_logs))"
  exit "$rc"
}

# set -u and signals end the script without an ERR trap; this still reports, unless a signal was already sent.
on_exit() {
  local rc=$?
  [ -z "$JOB" ] || return 0
  stop_watchdog
  [ ! -e "$SIGNALLED" ] || return 0
  if [ -e "$DEADLINE_PASSED" ]; then
    signal FAILURE "step $STEP: still running at the bootstrap deadline ($(deadline_text)), stopped so that CloudFormation hears why ($(where_logs))"
  else
    signal FAILURE "step $STEP: bootstrap ended unexpectedly (exit $rc; $(where_logs))"
  fi
}

install_traps() {
  trap 'on_err $? "$BASH_COMMAND" $LINENO' ERR
  trap on_exit EXIT
  trap 'exit 143' TERM INT HUP
}

# deadline_from_launch <launch time, ISO 8601> <wait condition timeout, s> <margin, s>: the epoch second at which
# the node gives up. ClusterReady's timer starts once the instances exist, so it counts from the launch (never
# later than that start), and the margin is kept after the deadline: time left to send the failure signal.
deadline_from_launch() {
  local launched
  launched=$(date -u -d "$1" +%s) || return 1
  echo $((launched + $2 - $3))
}

deadline_text() {
  printf 'launched %s, ClusterReady waits %ss, node deadline %s' "${LAUNCHED:-?}" "$BOOTSTRAP_TIMEOUT_SECONDS" \
    "$( [ -n "$DEADLINE" ] && date -u -d "@$DEADLINE" +%FT%TZ || echo '?')"
}

# Seconds until the deadline, never negative: a wait gives up then, with a reason, before CloudFormation times out.
time_left() {
  local left=$((DEADLINE - $(date +%s)))
  echo $((left > 0 ? left : 0))
}

# A step that hangs (a stuck download, a resolver loop) would outlive the wait condition and leave the stack
# waiting in silence: at the deadline plus WATCHDOG_GRACE, stop the running step; on_exit says why.
start_watchdog() {
  local delay=$(($(time_left) + WATCHDOG_GRACE))
  (
    trap - ERR EXIT
    me=$BASHPID
    sleep "$delay" &
    trap 'kill $! 2>/dev/null; exit 0' TERM
    wait $!
    : >"$DEADLINE_PASSED"
    # Bash runs the main script's TERM trap only once its foreground command ends: stop that command first, with
    # everything it started (which would otherwise hold the log open), but not the log's tee nor this watchdog.
    # shellcheck disable=SC2046  # one pid per word
    kill -TERM $(ps -e -o pid=,ppid= | awk -v root="$MAIN_PID" -v me="$me" -v tee="${TEE_PID:-0}" '
      { parent[$1] = $2 }
      END {
        for (p in parent) {
          q = p
          while (q in parent && q != me && q != tee && parent[q] != root) q = parent[q]
          if (q in parent && q != me && q != tee && parent[q] == root) print p
        }
      }') 2>/dev/null || true
    kill -TERM "$MAIN_PID"
  ) </dev/null >/dev/null 2>&1 &
  WATCHDOG_PID=$!
}

stop_watchdog() {
  [ -z "$WATCHDOG_PID" ] || kill "$WATCHDOG_PID" 2>/dev/null || true
  WATCHDOG_PID=""
}

# wait_for <what> <seconds> <command…>: polls until the command succeeds, with a progress line now and then
# (the command may leave a note on what it saw in WAIT_NOTE).
wait_for() {
  local what=$1 limit=$2 start=$SECONDS last=$SECONDS left whole=${WAIT_INTERVAL%.*}
  shift 2
  until "$@"; do
    if ((SECONDS - last >= PROGRESS_EVERY)); then
      say "  waiting for $what ($((SECONDS - start))s of at most ${limit}s)${WAIT_NOTE:+: $WAIT_NOTE}"
      cw_flush
      last=$SECONDS
    fi
    left=$((limit - (SECONDS - start)))
    if ((left <= 0)); then return 1; fi
    # The last sleep ends at the limit, not an interval past it: a limit set by time_left is the node's deadline.
    if ((left < ${whole:-0})); then sleep "$left"; else sleep "$WAIT_INTERVAL"; fi
  done
}

# imds <path under latest/>
imds() {
  curl -fsS --max-time 5 --retry 5 --retry-connrefused -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" \
    "$IMDS/latest/$1"
}

# need_internet <what> <url>: waits until an HTTPS request gets an answer, i.e. the subnet's NAT route exists (the
# nodes launch without waiting for it; S3 goes through the gateway endpoint).
need_internet() {
  local limit
  limit=$(min "$(time_left)" "$NET_WAIT")
  wait_for "a route to $1 ($2)" "$limit" answers "$2" ||
    fail "no route to $1 ($2) within ${limit}s: the NAT gateway or the subnet's route to it is not there (${WAIT_NOTE})"
}

# Any HTTP answer to a HEAD request proves the route; the connect timeout tells a missing route from a slow one.
answers() {
  local out
  out=$(curl -sS -o /dev/null -I --connect-timeout 5 --max-time 15 "$1" 2>&1) && return 0
  WAIT_NOTE=${out:0:160}
  return 1
}
