/** An EC2 On-Demand vCPU quota (Service Quotas, service code ec2). */
export interface VcpuQuota {
  readonly code: string;
  readonly title: string;
}

/**
 * EC2's On-Demand vCPU quotas by instance family. Codes checked against public code and docs that call the
 * Service Quotas API (Nov 2026): L-417A185B is "Running On-Demand P instances".
 */
const QUOTAS: ReadonlyArray<[RegExp, VcpuQuota]> = [
  [/^p\d/, { code: 'L-417A185B', title: 'Running On-Demand P instances' }],
  [/^(g\d|vt\d)/, { code: 'L-DB2E81BA', title: 'Running On-Demand G and VT instances' }],
  [/^[acdhimrtz]\d/, { code: 'L-1216C47A', title: 'Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances' }],
];

export function vcpuQuotaFor(instanceType: string): VcpuQuota | undefined {
  return QUOTAS.find(([pattern]) => pattern.test(instanceType))?.[1];
}
