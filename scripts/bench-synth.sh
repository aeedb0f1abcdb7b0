#!/usr/bin/env bash
# Times `cdk synth` of the default stack against a bare CDK app with one empty stack, in the same run, with the
# same CLI and TypeScript runner (node -r bin/register-ts.js), and prints both medians and their ratio. The target
# is a ratio under 1.5. A third series, reported but not gated, runs cdk-nag in full every time
# (-c nagCache=false): what the first synth after a change costs.
# Run by scripts/bench-synth.ts (npm run bench:synth [-- RUNS], RUNS checked there): RUNS synths each (default 5),
# alternated so load drifts hit both alike.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
cdk="$PWD/node_modules/.bin/cdk"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
# No credentials, no metadata service: synth must not need AWS, and must not wait for it.
export AWS_EC2_METADATA_DISABLED=true CDK_DISABLE_VERSION_CHECK=1
unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN || true

time_one() { # dir outdir [cdk args…] → seconds
  local start end dir=$1 outdir=$2
  shift 2
  start=$(date +%s.%N)
  (cd "$dir" && "$cdk" synth --quiet --no-notices --no-version-reporting -o "$outdir" "$@" >/dev/null 2>"$out/last.err") || {
    echo "synth failed in $dir:" >&2; cat "$out/last.err" >&2; exit 1; }
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f\n", b - a }'
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "warming up (first tsx compile of each app)..."
time_one bench/bare-app "$out/bare" >/dev/null
time_one . "$out/stack" >/dev/null
: >"$out/bare.times"; : >"$out/stack.times"; : >"$out/cold.times"
for i in $(seq 1 "$runs"); do
  b=$(time_one bench/bare-app "$out/bare"); echo "$b" >>"$out/bare.times"
  s=$(time_one . "$out/stack"); echo "$s" >>"$out/stack.times"
  c=$(time_one . "$out/cold" -c nagCache=false); echo "$c" >>"$out/cold.times"
  printf 'run %d/%d: bare %.2fs, stack %.2fs, stack with cdk-nag run in full %.2fs\n' "$i" "$runs" "$b" "$s" "$c"
done
bare=$(median <"$out/bare.times"); stack=$(median <"$out/stack.times"); cold=$(median <"$out/cold.times")
ratio=$(awk -v s="$stack" -v b="$bare" 'BEGIN { printf "%.3f", s / b }')
cold_ratio=$(awk -v s="$cold" -v b="$bare" 'BEGIN { printf "%.2f", s / b }')
printf 'median of %d runs (cdk %s, node %s, %d cores): bare app %.2fs, default stack %.2fs, ratio %.2f (target < 1.5)\n' \
  "$runs" "$("$cdk" --version | cut -d' ' -f1)" "$(node --version)" "$(nproc)" "$bare" "$stack" "$ratio"
printf 'first synth after a change (cdk-nag not cached): %.2fs, ratio %s (not gated)\n' "$cold" "$cold_ratio"
awk -v r="$ratio" 'BEGIN { exit !(r < 1.5) }' || { echo "ratio $ratio is not under 1.5" >&2; exit 1; }
