/**
 * Every setting's update policy (lib/config/update-policy.ts), checked against what CloudFormation would do: a
 * template with the setting changed, compared with the template before (test/helpers/cfn-update.ts). A policy that
 * says "no node is touched" must leave every instance, launch template and readiness wait alone; one that says
 * "replaces every node" must replace every instance and make a new readiness wait. And no change of any setting
 * may stop and start an instance (a user-data update) or ask CloudFormation for an update it does not support.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ClusterConfig, RawConfig } from '../../lib/config/cluster-config';
import { SETTING_KEYS } from '../../lib/config/schema';
import { UPDATE_POLICIES } from '../../lib/config/update-policy';
import { ResourcePlan, TemplateJson, planUpdate } from '../helpers/cfn-update';
import { clusterStack } from '../helpers/stack-template';

/** For each setting: the settings before (default: none) and the change. */
const CHANGES: { readonly [K in keyof ClusterConfig]-?: { readonly before?: RawConfig; readonly after: RawConfig } } = {
  stackName: { after: { stackName: 'OtherCluster' } },
  region: { after: { region: 'us-west-2' } },
  availabilityZone: { after: { availabilityZone: 'us-east-1b' } },
  ignoreRegionCatalog: { after: { ignoreRegionCatalog: true } },
  gpuInstanceType: { after: { gpuInstanceType: 'p5en.48xlarge' } },
  gpuNodes: { after: { gpuNodes: 3 } },
  headInstanceType: { after: { headInstanceType: 'm7i.4xlarge' } },
  efaLayout: { after: { efaLayout: 'efa' } },
  amiParameter: { after: { amiParameter: '/ml-platform/p5-ami' } },
  amiGeneration: { after: { amiGeneration: 2 } },
  rootVolumeGiB: { after: { rootVolumeGiB: 400 } },
  rootVolumeThroughputMiBps: { after: { rootVolumeThroughputMiBps: 500 } },
  model: { after: { model: 'openai/gpt-oss-20b' } },
  servedModelName: { after: { servedModelName: 'other' } },
  maxModelLen: { after: { maxModelLen: 20000 } },
  profile: { after: { profile: 'reference' } },
  tensorParallelSize: { after: { tensorParallelSize: 8 } },
  collocatedReplicas: { after: { collocatedReplicas: 2 } },
  prefillTensorParallelSize: { after: { prefillTensorParallelSize: 8 } },
  prefillReplicas: { after: { prefillTensorParallelSize: 4, prefillReplicas: 1 } },
  decodeTensorParallelSize: { after: { decodeTensorParallelSize: 8 } },
  decodeReplicas: { after: { decodeReplicas: 1 } },
  requestRouter: { after: { requestRouter: 'power-of-two' } },
  nixlBackend: { after: { nixlBackend: 'UCX' } },
  lmcacheChunkSize: { after: { lmcacheChunkSize: 512 } },
  lmcacheCpuGbPerRank: { after: { lmcacheCpuGbPerRank: 50 } },
  lmcacheDiskGb: { after: { lmcacheDiskGb: 100 } },
  capacityReservationId: { after: { capacityReservationId: 'cr-0123456789abcdef0' } },
  capacityBlock: { before: { capacityReservationId: 'cr-0123456789abcdef0' }, after: { capacityReservationId: 'cr-0123456789abcdef0', capacityBlock: true } },
  placementGroupName: { after: { placementGroupName: 'odcr-group' } },
  maxHours: { after: { maxHours: 12 } },
  budgetEmail: { after: { budgetEmail: 'ops@example.com' } },
  vpcId: {
    before: { vpcId: 'vpc-0123456789abcdef0', subnetId: 'subnet-0123456789abcdef0' },
    after: { vpcId: 'vpc-0fedcba9876543210', subnetId: 'subnet-0123456789abcdef0' },
  },
  subnetId: {
    before: { vpcId: 'vpc-0123456789abcdef0', subnetId: 'subnet-0123456789abcdef0' },
    after: { vpcId: 'vpc-0123456789abcdef0', subnetId: 'subnet-0fedcba9876543210' },
  },
  hfTokenSecretName: { after: { hfTokenSecretName: 'hf-token' } },
  bootstrapTimeoutMinutes: { after: { bootstrapTimeoutMinutes: 60 } },
  deployCache: { after: { deployCache: true } },
  cacheBucketName: { before: { deployCache: true }, after: { deployCache: true, cacheBucketName: 'my-team-cache' } },
};

const ofType = (t: TemplateJson, type: string) => Object.keys(t.Resources).filter((id) => t.Resources[id].Type === type);
const NODE_TYPES = ['AWS::EC2::Instance', 'AWS::EC2::LaunchTemplate', 'AWS::CloudFormation::WaitCondition', 'AWS::CloudFormation::WaitConditionHandle'];

/** What a change did, in the words of the policies (an UpdatePolicy), or what is wrong with it. */
function observed(before: TemplateJson, after: TemplateJson, updates: Map<string, ResourcePlan>): string {
  const changed = [...updates.values()].filter((p) => p.action !== 'unchanged');
  if (changed.length === 0) return 'none';
  const instancesBefore = ofType(before, 'AWS::EC2::Instance');
  const waitBefore = ofType(before, 'AWS::CloudFormation::WaitCondition')[0];
  const waitAfter = ofType(after, 'AWS::CloudFormation::WaitCondition')[0];
  // Replaced because their launch templates got a new version (the generation tag), not only because the text of
  // their LaunchTemplate property names the generation: the version must resolve to a new value too.
  const newVersions = ofType(before, 'AWS::EC2::LaunchTemplate').every((id) => updates.get(id)!.action !== 'unchanged');
  const replaced = newVersions && instancesBefore.every((id) => ['replacement', 'removed'].includes(updates.get(id)!.action));
  if (replaced && waitBefore !== waitAfter && updates.get(waitBefore)?.action === 'removed' && updates.get(waitAfter)?.action === 'added') {
    return 'replaces-nodes';
  }
  const touched = changed.filter((p) => NODE_TYPES.includes(p.type));
  if (touched.length > 0) return `touches nodes without a new generation: ${touched.map((p) => `${p.logicalId} ${p.action}`).join(', ')}`;
  if (changed.some((p) => p.logicalId.startsWith('ServeBundlePointer'))) return 'serve-bundle';
  if (changed.every((p) => p.logicalId.startsWith('SpendGuard'))) return 'spend-guard';
  return `other: ${changed.map((p) => `${p.logicalId} ${p.action}`).join(', ')}`;
}

describe('every setting\'s update policy matches what CloudFormation would do', () => {
  it('covers every setting', () => {
    assert.deepEqual(Object.keys(CHANGES).sort(), [...SETTING_KEYS].sort());
    assert.deepEqual(Object.keys(UPDATE_POLICIES).sort(), [...SETTING_KEYS].sort());
  });

  for (const key of SETTING_KEYS) {
    const policy = UPDATE_POLICIES[key];
    it(`${key}: ${policy}`, () => {
      const { before = {}, after } = CHANGES[key];
      const a = clusterStack(before);
      const b = clusterStack(after);
      if (policy === 'new-stack') {
        assert.notDeepEqual([a.stackName, a.region], [b.stackName, b.region]);
        return;
      }
      const updates = planUpdate(a.template, b.template);
      for (const p of updates.values()) {
        assert.notEqual(p.action, 'update not supported', `${p.logicalId}: ${p.because.join(', ')}`);
        if (p.type === 'AWS::EC2::Instance') assert.notEqual(p.action, 'update with interruption', `${p.logicalId} would be stopped and started`);
      }
      assert.equal(observed(a.template, b.template, updates), policy);
    });
  }
});
