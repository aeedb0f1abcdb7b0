import type { ClusterConfig } from './cluster-config';

/**
 * What a change of a setting does to a deployed cluster, after the model of AWS ParallelCluster's update policies
 * (`pcluster update-cluster`: every setting says whether a change needs the fleet stopped or replaced): each setting
 * knows whether a change touches the instances. test/cluster/update-policies.test.ts checks every entry against
 * the real templates, compared the way CloudFormation decides (create-only properties from its resource schemas).
 *
 * - `replaces-nodes`: a new node generation. Every node is replaced (CloudFormation launches the new set before it
 *   terminates the old one) and the new set is gated by a new readiness wait.
 * - `serve-bundle`: a new serve bundle; no node is touched. run_all.sh installs it on every node at its next run.
 * - `spend-guard`: the spend guard or the budget only; no node is touched.
 * - `none`: nothing deployed changes (checks that run at synth only).
 * - `new-stack`: another stack altogether: a second cluster next to this one, which stays until destroyed.
 */
export type UpdatePolicy = 'replaces-nodes' | 'serve-bundle' | 'spend-guard' | 'none' | 'new-stack';

export const UPDATE_POLICY_TEXT: Readonly<Record<UpdatePolicy, string>> = {
  'replaces-nodes': 'replaces every node (a new node generation, gated by a new readiness wait)',
  'serve-bundle': 'reaches the nodes through the serve bundle; no node is touched (run_all.sh installs it on every node)',
  'spend-guard': 'updates the spend guard or the budget only; no node is touched',
  none: 'changes nothing deployed (checked at synth only)',
  'new-stack': 'deploys another stack: a second cluster, next to this one',
};

export const UPDATE_POLICIES: { readonly [K in keyof ClusterConfig]-?: UpdatePolicy } = {
  stackName: 'new-stack',
  region: 'new-stack',
  availabilityZone: 'replaces-nodes',
  ignoreRegionCatalog: 'none',
  gpuInstanceType: 'replaces-nodes',
  gpuNodes: 'replaces-nodes',
  headInstanceType: 'replaces-nodes',
  efaLayout: 'replaces-nodes',
  amiParameter: 'replaces-nodes',
  amiGeneration: 'replaces-nodes',
  rootVolumeGiB: 'replaces-nodes',
  rootVolumeThroughputMiBps: 'replaces-nodes',
  // The weights are downloaded and verified at boot.
  model: 'replaces-nodes',
  servedModelName: 'serve-bundle',
  maxModelLen: 'serve-bundle',
  profile: 'serve-bundle',
  tensorParallelSize: 'serve-bundle',
  collocatedReplicas: 'serve-bundle',
  prefillTensorParallelSize: 'serve-bundle',
  prefillReplicas: 'serve-bundle',
  decodeTensorParallelSize: 'serve-bundle',
  decodeReplicas: 'serve-bundle',
  requestRouter: 'serve-bundle',
  // Every GPU node verifies the backend at boot (NIXL over EFA).
  nixlBackend: 'replaces-nodes',
  lmcacheChunkSize: 'serve-bundle',
  lmcacheCpuGbPerRank: 'serve-bundle',
  lmcacheDiskGb: 'serve-bundle',
  capacityReservationId: 'replaces-nodes',
  capacityBlock: 'replaces-nodes',
  placementGroupName: 'replaces-nodes',
  maxHours: 'spend-guard',
  budgetEmail: 'spend-guard',
  vpcId: 'replaces-nodes',
  subnetId: 'replaces-nodes',
  hfTokenSecretName: 'replaces-nodes',
  // ClusterReady's Timeout cannot be updated: a new wait needs new nodes to signal it.
  bootstrapTimeoutMinutes: 'replaces-nodes',
  deployCache: 'replaces-nodes',
  cacheBucketName: 'replaces-nodes',
};

/** The settings of one policy, in table order. */
export function settingsWithPolicy(policy: UpdatePolicy): Array<keyof ClusterConfig> {
  return (Object.keys(UPDATE_POLICIES) as Array<keyof ClusterConfig>).filter((key) => UPDATE_POLICIES[key] === policy);
}
