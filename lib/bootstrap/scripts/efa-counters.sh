#!/usr/bin/env bash
# Writes each EFA device's byte counters for node_exporter's textfile collector, every few seconds, for ever (run by
# p5-ray-efa-counters.service on GPU nodes). node_exporter's infiniband collector does not read EFA's hw_counters,
# which the EFA driver keeps per port (amzn/amzn-drivers kernel/linux/efa/src/efa_verbs.c, EFA_DEFINE_PORT_STATS).
# Usage: efa-counters.sh [--once] <textfile dir> <seconds> <counter>...
# The counters (tx_bytes, rdma_read_resp_bytes, …) and the metric names, p5ray_efa_<counter>_total, come from
# lib/catalog/monitoring.ts (MONITORING.efaMetrics). A counter the device lacks (rdma_write_* without the RDMA_WRITE
# capability) is left out, so the evidence says "no series" rather than 0.
set -euo pipefail
ONCE=0
if [ "${1:-}" = --once ]; then ONCE=1; shift; fi
OUT_DIR=$1
INTERVAL=$2
shift 2
COUNTERS=("$@")
[ "${#COUNTERS[@]}" -gt 0 ] || { echo "efa-counters.sh: no counters named" >&2; exit 2; }
SYS=${P5RAY_SYS_INFINIBAND:-/sys/class/infiniband}
OUT="$OUT_DIR/p5ray_efa.prom"

write_once() {
  local tmp="$OUT.$$" c port dev value
  {
    for c in "${COUNTERS[@]}"; do
      echo "# HELP p5ray_efa_${c}_total EFA hw_counters/${c} of the device's port, bytes since it came up."
      echo "# TYPE p5ray_efa_${c}_total counter"
      for port in "$SYS"/*/ports/*; do
        [ -r "$port/hw_counters/$c" ] || continue
        dev=${port%/ports/*}
        dev=${dev##*/}
        value=$(<"$port/hw_counters/$c")
        echo "p5ray_efa_${c}_total{device=\"$dev\",port=\"${port##*/}\"} $value"
      done
    done
  } >"$tmp"
  # The collector reads whole files only: write aside, then rename.
  mv "$tmp" "$OUT"
}

mkdir -p "$OUT_DIR"
while :; do
  write_once
  [ "$ONCE" = 0 ] || exit 0
  sleep "$INTERVAL"
done
