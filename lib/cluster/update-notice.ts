import { vcpuQuotaFor } from '../catalog/quotas';
import { readinessGateLogicalId } from '../catalog/stack-names';
import { ClusterConfig, gpuSpec, hasSeparateHead } from '../config/cluster-config';
import { settingsWithPolicy } from '../config/update-policy';

/** Where the docs say what each kind of change does. */
export const UPDATES_DOC = 'docs/operations.md#updating-a-running-cluster';

/**
 * What `cdk synth` (and so `cdk diff` and `cdk deploy`) says about updating a deployed cluster, before anything
 * happens: the node generation this configuration makes, which settings would replace every node, and what a
 * replacement needs. CloudFormation "usually creates the replacement resource first … and then deletes the old
 * resource" (CloudFormation User Guide, update behaviors), so for a while both node sets run.
 */
export function updateNotice(config: ClusterConfig, generationId: string): string[] {
  const n = config.gpuNodes;
  const head = hasSeparateHead(config) ? ` + ${config.headInstanceType} head` : ', head on GPU node 0';
  return [
    `Node generation ${generationId} (${n} × ${config.gpuInstanceType}${head}; AMI from ${config.amiParameter}, amiGeneration=` +
      `${config.amiGeneration}; the node bootstrap of this version): a deploy replaces every node only when the deployed ` +
      `stack's output NodeGeneration differs (\`cdk diff\` then shows the instances "replace" and ${readinessGateLogicalId(generationId)} added).`,
    `  Replacing launches the new nodes before it terminates the old: ${replacementNeeds(config)}.`,
    `  Changing ${settingsWithPolicy('replaces-nodes').filter((k) => k !== 'amiGeneration').slice(0, 6).join(', ')}, … replaces every node; ` +
      `${settingsWithPolicy('serve-bundle').slice(0, 3).join(', ')}, … reach the nodes through the serve bundle, untouched; ` +
      `${settingsWithPolicy('spend-guard').join(', ')} only the spend guard (each setting: ${UPDATES_DOC}).`,
  ];
}

/** What a second set of GPU nodes next to the first takes, for this cluster's capacity. */
function replacementNeeds(config: ClusterConfig): string {
  const n = config.gpuNodes;
  const { vcpus } = gpuSpec(config);
  const type = config.gpuInstanceType;
  if (config.capacityBlock) {
    return `a Capacity Block holds only the ${n} instances it was bought for, so the new ${type} nodes cannot start: ` +
      '`cdk destroy`, then `cdk deploy`';
  }
  if (config.capacityReservationId !== undefined) {
    return `${2 * n} free ${type} in ${config.capacityReservationId} (${n} more than the cluster uses), or \`cdk destroy\` first`;
  }
  const quota = vcpuQuotaFor(type);
  return `${2 * n * vcpus} vCPUs (${2 * n} × ${type} × ${vcpus}) of ${quota ? `the quota ${quota.code} "${quota.title}"` : 'your On-Demand vCPU quota'}, twice what ` +
    'the cluster uses, or `cdk destroy` first';
}
