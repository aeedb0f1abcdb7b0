import { PORTS } from './ports';

/**
 * The monitoring contract: what the observability stack on the cluster (lib/monitoring) promises and what the
 * benchmark evidence (lib/serve/assets, lib/report/evidence.ts) and the dashboards read. One place, so a renamed
 * job, label or metric breaks a test instead of leaving a panel or an evidence field silently empty.
 */
export const MONITORING = {
  /** Where the benchmark scripts, which run on the head, query Prometheus' HTTP API. */
  prometheusUrlOnHead: `http://127.0.0.1:${PORTS.prometheus}`,
  /** Short enough that a 60-second benchmark point spans a dozen samples of every counter. */
  scrapeIntervalSeconds: 5,
  /** Prometheus `job` label of each scrape target. */
  jobs: {
    prometheus: 'prometheus',
    ray: 'ray',
    node: 'node',
    dcgm: 'dcgm',
  },
  /**
   * The label every target of every job carries that names its cluster node the way the rest of the tool does
   * (`head`, `gpu-0`, `gpu-1`, …; lib/ops and the node facts use the same names).
   */
  nodeLabel: 'node',
  /**
   * EFA counters, written by each GPU node's textfile writer from /sys/class/infiniband/<device>/ports/<port>/
   * hw_counters/ and served by node_exporter's textfile collector (node_exporter's own infiniband collector does
   * not read EFA's hw_counters). Labels: `device` (rdmapXsY), `port`. Counters in bytes since the device came up.
   */
  efaMetrics: {
    txBytes: 'p5ray_efa_tx_bytes_total',
    rxBytes: 'p5ray_efa_rx_bytes_total',
    rdmaReadBytes: 'p5ray_efa_rdma_read_bytes_total',
    rdmaWriteBytes: 'p5ray_efa_rdma_write_bytes_total',
  },
  /** DCGM exporter fields the study reads (names as dcgm-exporter exports them; label `gpu` is the GPU index). */
  gpuMetrics: {
    utilization: 'DCGM_FI_DEV_GPU_UTIL',
    smActive: 'DCGM_FI_PROF_SM_ACTIVE',
    framebufferUsedMiB: 'DCGM_FI_DEV_FB_USED',
  },
} as const;
