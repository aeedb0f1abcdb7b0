/**
 * The names a deployed cluster carries: the constructs create them from here, and the operations commands look
 * them up from here without loading aws-cdk-lib. test/ops/stack-facts.test.ts synthesizes the real stack and
 * checks them.
 */

/** Stack outputs (CfnOutput logical ids). */
export const STACK_OUTPUTS = {
  gpuInstanceIds: 'GpuInstanceIds',
  headInstanceId: 'HeadInstanceId',
  headShell: 'HeadShellCommand',
  dashboardPortForward: 'DashboardPortForwardCommand',
  servePortForward: 'ServePortForwardCommand',
  grafanaPortForward: 'GrafanaPortForwardCommand',
  prometheusPortForward: 'PrometheusPortForwardCommand',
  artifactsBucket: 'ArtifactsBucketName',
  bootstrapLogs: 'BootstrapLogsCommand',
  runAllBenchmarks: 'RunAllBenchmarksCommand',
  spendGuardScheduleName: 'SpendGuardScheduleName',
  spendGuardStopTime: 'SpendGuardStopTime',
  spendGuardStatus: 'SpendGuardStatus',
  nodeGeneration: 'NodeGeneration',
  nodeImageId: 'NodeImageId',
  serveBundleParameter: 'ServeBundleParameter',
} as const;

/**
 * The CloudFormation WaitCondition every node of a generation signals: this prefix and the generation id make its
 * construct id (at the app's 'Default' id, its logical id), e.g. ClusterReady3f2a1b9c. A new generation gets a new
 * wait, as WaitCondition's Count, Handle and Timeout cannot be updated and a completed wait never waits again.
 */
export const READINESS_GATE_LOGICAL_ID = 'ClusterReady';

/** The readiness gate of a node generation. */
export function readinessGateLogicalId(generationId: string): string {
  return `${READINESS_GATE_LOGICAL_ID}${generationId}`;
}

/** Tag on every node (and its volumes and interfaces): the node generation it belongs to. */
export const NODE_GENERATION_TAG = 'p5-ray:node-generation';

/** The SSM parameter holding the S3 URL of the current serve bundle: stable, so the user data can name it. */
export function serveBundleParameterName(stackName: string): string {
  return `/p5-ray/${stackName}/serve-bundle`;
}

/** The cost-allocation tag on every resource of a cluster; its value is the stack name. Budgets filter on it. */
export const COST_TAG_KEY = 'p5-ray:cluster';

/** The bootstrap log group of a stack. */
export function bootstrapLogGroupName(stackName: string): string {
  return `/p5-ray/${stackName}/bootstrap`;
}

/** An instance's `Name` tag: `<stack>-gpu-<i>`, `<stack>-gpu-0-head` when the Ray head runs on GPU node 0, `<stack>-head`. */
export function nodeNameTag(stackName: string, node: { readonly role: 'gpu' | 'head'; readonly gpuIndex: number; readonly isRayHead: boolean }): string {
  return node.role === 'head' ? `${stackName}-head` : `${stackName}-gpu-${node.gpuIndex}${node.isRayHead ? '-head' : ''}`;
}

/** A node's short name from its instance's `Name` tag (the inverse of nodeNameTag). */
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
