/** Network ports of the Ray cluster (../shared/FACTS.md §2). All are reachable only inside the cluster's SG. */
export const PORTS = {
  rayGcs: 6379,
  rayDashboard: 8265,
  rayClient: 10001,
  serveHttp: 8000,
} as const;
