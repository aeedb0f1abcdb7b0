#!/usr/bin/env bash
# Times `cdk synth` of the default stack against a bare CDK app with one empty stack, in the same run, with the
# same CLI and TypeScript runner, and prints both medians and their ratio. The target is a ratio under 1.5.
# Usage: npm run bench:synth [-- RUNS]   (default 5 runs each, alternated so load drifts hit both alike)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
cdk="$PWD/node_modules/.bin/cdk"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
# No credentials, no metadata service: synth must not need AWS, and must not wait for it.
export AWS_EC2_METADATA_DISABLED=true CDK_DISABLE_VERSION_CHECK=1
unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN || true

time_one() { # dir outdir → seconds
  local start end
  start=$(date +%s.%N)
  (cd "$1" && "$cdk" synth --quiet --no-notices --no-version-reporting -o "$2" >/dev/null 2>"$out/last.err") || {
    echo "synth failed in $1:" >&2; cat "$out/last.err" >&2; exit 1; }
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f\n", b - a }'
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "warming up (first tsx compile of each app)..."
time_one bench/bare-app "$out/bare" >/dev/null
time_one . "$out/stack" >/dev/null
: >"$out/bare.times"; : >"$out/stack.times"
for i in $(seq 1 "$runs"); do
  b=$(time_one bench/bare-app "$out/bare"); echo "$b" >>"$out/bare.times"
  s=$(time_one . "$out/stack"); echo "$s" >>"$out/stack.times"
  printf 'run %d/%d: bare %.2fs, stack %.2fs\n' "$i" "$runs" "$b" "$s"
done
bare=$(median <"$out/bare.times"); stack=$(median <"$out/stack.times")
ratio=$(awk -v s="$stack" -v b="$bare" 'BEGIN { printf "%.3f", s / b }')
printf 'median of %d runs (cdk %s, node %s, %d cores): bare app %.2fs, default stack %.2fs, ratio %.2f (target < 1.5)\n' \
  "$runs" "$("$cdk" --version | cut -d' ' -f1)" "$(node --version)" "$(nproc)" "$bare" "$stack" "$ratio"
awk -v r="$ratio" 'BEGIN { exit !(r < 1.5) }' || { echo "ratio $ratio is not under 1.5" >&2; exit 1; }
