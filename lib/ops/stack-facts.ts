/**
 * Names the deployed stack carries, as the operations commands look them up. They are defined by lib/stack.ts,
 * lib/guard/spend-guard.ts and lib/compute/cluster-nodes.ts; importing those would load aws-cdk-lib into every
 * command, so they are mirrored here and test/ops/stack-facts.test.ts synthesizes the real stack and fails if
 * any of them drifts.
 */

/** Stack outputs (CfnOutput logical ids). */
export const STACK_OUTPUTS = {
  gpuInstanceIds: 'GpuInstanceIds',
  headInstanceId: 'HeadInstanceId',
  artifactsBucket: 'ArtifactsBucketName',
  spendGuardStopTime: 'SpendGuardStopTime',
  spendGuardStatus: 'SpendGuardStatus',
} as const;

/** The CloudFormation WaitCondition every node signals (lib/stack.ts `ClusterReady`). */
export const READINESS_GATE_LOGICAL_ID = 'ClusterReady';

/** The cost-allocation tag on every resource, value = stack name (lib/stack.ts COST_TAG_KEY). */
export const COST_TAG_KEY = 'p5-ray:cluster';

/** The bootstrap log group of a stack (lib/stack.ts `BootstrapLogs`). */
export function bootstrapLogGroupName(stackName: string): string {
  return `/p5-ray/${stackName}/bootstrap`;
}

/**
 * A node's short name from its instance's `Name` tag (lib/compute/cluster-nodes.ts): `<stack>-gpu-<i>`,
 * `<stack>-gpu-0-head` when the Ray head runs on GPU node 0, `<stack>-head` for the separate head.
 */
export function nodeFromNameTag(stackName: string, nameTag: string | undefined): { name: string; isRayHead: boolean } | undefined {
  if (!nameTag?.startsWith(`${stackName}-`)) return undefined;
  const rest = nameTag.slice(stackName.length + 1);
  if (rest === 'head') return { name: 'head', isRayHead: true };
  const gpu = /^gpu-(\d+)(-head)?$/.exec(rest);
  return gpu ? { name: `gpu-${gpu[1]}`, isRayHead: gpu[2] !== undefined } : undefined;
}

/** The CloudFormation tag EC2 instances of a stack carry (set by CloudFormation itself on every tagged resource). */
export const CFN_STACK_ID_TAG = 'aws:cloudformation:stack-id';
export const CFN_LOGICAL_ID_TAG = 'aws:cloudformation:logical-id';
