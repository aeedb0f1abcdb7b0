#!/usr/bin/env bash
# Writes each EFA device's byte counters for node_exporter's textfile collector, every few seconds, for ever (run by
# p5-ray-efa-counters.service on GPU nodes). node_exporter's infiniband collector does not read EFA's hw_counters,
# which the kernel's EFA driver keeps per port (drivers/infiniband/hw/efa/efa_verbs.c, EFA_DEFINE_PORT_STATS:
# tx_bytes, rx_bytes, rdma_read_bytes, rdma_write_bytes, …). Usage: efa-counters.sh <textfile dir> <seconds> [--once]
# Metric names: lib/catalog/monitoring.ts (MONITORING.efaMetrics).
set -euo pipefail
OUT_DIR=$1
INTERVAL=$2
SYS=${P5RAY_SYS_INFINIBAND:-/sys/class/infiniband}
OUT="$OUT_DIR/p5ray_efa.prom"
COUNTERS=(tx_bytes rx_bytes rdma_read_bytes rdma_write_bytes)

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
  [ "${3:-}" != --once ] || exit 0
  sleep "$INTERVAL"
done
