/**
 * Network ports of the Ray cluster: Ray's defaults (`ray start --help`: GCS 6379, dashboard 8265, client server
 * 10001; Serve HTTP 8000). All are reachable only inside the cluster's security group.
 */
export const PORTS = {
  rayGcs: 6379,
  rayDashboard: 8265,
  rayClient: 10001,
  serveHttp: 8000,
} as const;
