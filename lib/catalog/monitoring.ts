import { PORTS } from './ports';

/** Short enough that a 60-second benchmark point spans a dozen samples of every counter and gauge. */
const SCRAPE_INTERVAL_SECONDS = 5;

/**
 * The monitoring contract: what the observability stack on the cluster (lib/monitoring) promises and what the
 * benchmark evidence (lib/serve/assets, lib/report/evidence.ts) and the dashboards read. One place, so a renamed
 * job, label or metric breaks a test instead of leaving a panel or an evidence field silently empty.
 */
export const MONITORING = {
  /** Where the benchmark scripts, which run on the head, query Prometheus' HTTP API. */
  prometheusUrlOnHead: `http://127.0.0.1:${PORTS.prometheus}`,
  scrapeIntervalSeconds: SCRAPE_INTERVAL_SECONDS,
  /**
   * How often dcgm-exporter reads the GPUs (its `-c` option, milliseconds). Its default, 30 000
   * (NVIDIA/dcgm-exporter@4.5.3-4.8.2 pkg/cmd/app.go, CLICollectInterval), would repeat one reading over six scrapes:
   * a benchmark point's mean GPU utilization would rest on two or three readings and the panels would step every 30 s.
   * Collecting at the scrape interval gives every scrape a fresh reading.
   */
  dcgmCollectIntervalMs: SCRAPE_INTERVAL_SECONDS * 1000,
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
   * hw_counters/<counter> as `p5ray_efa_<counter>_total` and served by node_exporter's textfile collector
   * (node_exporter's own infiniband collector does not read EFA's hw_counters). Labels: `device` (rdmapXsY), `port`.
   * Counters in bytes since the device came up. The counter names are the EFA driver's (amzn/amzn-drivers
   * efa_linux_3.1.0 kernel/linux/efa/src/efa_verbs.c, EFA_DEFINE_PORT_STATS; efa_fill_port_stats fills them from
   * the device's BASIC, RDMA_READ and RDMA_WRITE statistics):
   * - tx_bytes / rx_bytes: the device's "basic" statistics. Whether the firmware counts RDMA traffic in them is not
   *   documented: never add them to the RDMA counters.
   * - rdma_read_bytes: bytes this side READ from a remote memory (the initiator); rdma_read_resp_bytes: bytes this
   *   side served to a remote reader (the responder). vLLM's NixlConnector pulls: decode READs prefill's KV, so the
   *   prefill node's share shows in rdma_read_resp_bytes, decode's in rdma_read_bytes.
   * - rdma_write_bytes / rdma_write_recv_bytes: the same for RDMA WRITE (writer / written-to); filled only when the
   *   device has the RDMA_WRITE capability, else absent.
   */
  efaMetrics: {
    txBytes: 'p5ray_efa_tx_bytes_total',
    rxBytes: 'p5ray_efa_rx_bytes_total',
    rdmaReadBytes: 'p5ray_efa_rdma_read_bytes_total',
    rdmaReadRespBytes: 'p5ray_efa_rdma_read_resp_bytes_total',
    rdmaWriteBytes: 'p5ray_efa_rdma_write_bytes_total',
    rdmaWriteRecvBytes: 'p5ray_efa_rdma_write_recv_bytes_total',
  },
  /** DCGM exporter fields the study reads (names as dcgm-exporter exports them; label `gpu` is the GPU index). */
  gpuMetrics: {
    utilization: 'DCGM_FI_DEV_GPU_UTIL',
    smActive: 'DCGM_FI_PROF_SM_ACTIVE',
    framebufferUsedMiB: 'DCGM_FI_DEV_FB_USED',
  },
} as const;

/** The EFA driver's hw_counters name behind an `efaMetrics` name (`p5ray_efa_<counter>_total`). */
export function efaHwCounter(metric: string): string {
  const m = /^p5ray_efa_([a-z_]+)_total$/.exec(metric);
  if (!m) throw new Error(`not an EFA counter metric: ${metric}`);
  return m[1];
}
