/**
 * Network ports of the Ray cluster: Ray's defaults (`ray start --help`: GCS 6379, dashboard 8265, client server
 * 10001; Serve HTTP 8000). All are reachable only inside the cluster's security group.
 */
export const PORTS = {
  rayGcs: 6379,
  rayDashboard: 8265,
  rayClient: 10001,
  serveHttp: 8000,
  /**
   * Ray's metrics agent on every node (`ray start --metrics-export-port`; without it Ray picks a random port).
   * Prometheus on the head scrapes it through Ray's service-discovery file.
   */
  rayMetrics: 8080,
  /** The observability stack (lib/monitoring): Prometheus and Grafana on the head, exporters on every GPU node. */
  prometheus: 9090,
  grafana: 3000,
  nodeExporter: 9100,
  dcgmExporter: 9400,
} as const;
