import { ClusterConfig, hasSeparateHead } from '../../config/cluster-config';

/** The two kinds of node the stack launches; rules that apply to both are written once and instantiated per role. */
export type NodeRole = 'gpu' | 'head';

export interface RoleNodes {
  readonly instanceType: string;
  readonly count: number;
  readonly label: string;
}

/** The instance type and count the stack launches for a role, or `undefined` when the role has no nodes. */
export function nodesOf(config: ClusterConfig, role: NodeRole): RoleNodes | undefined {
  if (role === 'gpu') return { instanceType: config.gpuInstanceType, count: config.gpuNodes, label: 'GPU node' };
  return hasSeparateHead(config) ? { instanceType: config.headInstanceType, count: 1, label: 'head node' } : undefined;
}
