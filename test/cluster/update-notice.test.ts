/**
 * A change that replaces the nodes is announced before anything happens: every synth prints the node generation and
 * what a replacement needs, and the real `cdk diff` (against the template of the deployed configuration) shows the
 * instances as replaced, while a serve-configuration change shows no instance at all.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { updateNotice } from '../../lib/cluster/update-notice';
import { parseClusterConfig } from '../../lib/config/cluster-config';
import { CdkRun, cdk, cdkSynthDefault } from '../helpers/cdk-cli';

describe('the update notice every synth prints', () => {
  it('names the generation, the readiness wait a replacement adds, and the quota for both node sets at once', () => {
    const lines = updateNotice(parseClusterConfig({}), '0a1b2c3d');
    assert.match(lines[0], /^Node generation 0a1b2c3d \(2 × p5\.48xlarge \+ m7i\.2xlarge head; AMI from \/aws\/service\/deeplearning\/\S+, amiGeneration=1; /);
    assert.match(lines[0], /output NodeGeneration differs \(`cdk diff` then shows the instances "replace" and ClusterReady0a1b2c3d added\)/);
    assert.match(lines[1], /768 vCPUs \(4 × p5\.48xlarge × 192\) of the quota L-417A185B "Running On-Demand P instances", twice what the cluster uses, or `cdk destroy` first/);
    assert.match(lines[2], /gpuNodes.* replaces every node; .*maxModelLen.* reach the nodes through the serve bundle, untouched; maxHours, budgetEmail only the spend guard \(each setting: docs\/operations\.md#updating-a-running-cluster\)/);
  });

  it('says a reservation needs room for both sets, and a Capacity Block cannot hold them: destroy first', () => {
    const odcr = updateNotice(parseClusterConfig({ capacityReservationId: 'cr-0123456789abcdef0', gpuNodes: 3 }), 'x');
    assert.match(odcr[1], /6 free p5\.48xlarge in cr-0123456789abcdef0 \(3 more than the cluster uses\), or `cdk destroy` first/);
    const block = updateNotice(parseClusterConfig({ capacityReservationId: 'cr-0123456789abcdef0', capacityBlock: true }), 'x');
    assert.match(block[1], /a Capacity Block holds only the 2 instances it was bought for.*`cdk destroy`, then `cdk deploy`/);
  });
});

describe('cdk diff against the deployed configuration\'s template (the real CLI, offline)', () => {
  let diffs: { gpuNodes: Promise<CdkRun>; maxModelLen: Promise<CdkRun> };
  before(async () => {
    // The deployed stack's template: what `cdk deploy` of the default configuration synthesized (the run's one
    // `cdk synth` of it, which test/cli.test.ts checks too).
    const r = await cdkSynthDefault();
    assert.equal(r.status, 0, r.stderr);
    const deployed = join(r.outdir, 'P5RayKvCluster.template.json');
    // Both diffs at once: each test awaits its own.
    const diff = (args: string[]) => cdk(['diff', '--no-notices', '--template', deployed, '-o', mkdtempSync(join(tmpdir(), 'p5-diff-')), ...args]);
    diffs = { gpuNodes: diff(['-c', 'gpuNodes=3']), maxModelLen: diff(['-c', 'maxModelLen=20000']) };
    await Promise.all(Object.values(diffs));
  });

  it('shows every instance as replaced, because of its launch template, when a node-count change makes a new generation', async () => {
    const r = await diffs.gpuNodes;
    const out = `${r.stdout}${r.stderr}`;
    for (const id of ['NodesGpuNode0C1F56665', 'NodesGpuNode1CEFBE4ED', 'NodesHeadNode8B836FC2']) {
      assert.match(out, new RegExp(`\\[~\\] AWS::EC2::Instance \\S+ ${id} replace`), out);
    }
    assert.match(out, /LaunchTemplate \(requires replacement\)/);
    assert.match(out, /\[\+\] AWS::CloudFormation::WaitCondition \S+ ClusterReady[0-9a-f]{8}/);
    assert.match(out, /\[-\] AWS::CloudFormation::WaitCondition \S+ ClusterReady[0-9a-f]{8} destroy/);
    assert.match(out, /Node generation [0-9a-f]{8} \(3 × p5\.48xlarge/, 'the synth inside cdk diff prints the notice');
  });

  it('shows no instance for a new maxModelLen: only the bundle pointer and the policies naming the bundle', async () => {
    const r = await diffs.maxModelLen;
    const out = `${r.stdout}${r.stderr}`;
    assert.doesNotMatch(out, /AWS::EC2::Instance/);
    assert.doesNotMatch(out, /AWS::EC2::LaunchTemplate/);
    assert.match(out, /\[~\] AWS::SSM::Parameter \S+ ServeBundlePointer66C8E8D4/);
    const changed = [...out.matchAll(/^\[[~+-]\] (AWS::\S+) \S+ (\S+)/gm)].map((m) => m[2]).sort();
    assert.deepEqual(changed, ['GpuNodeRoleDefaultPolicyB3229D96', 'HeadNodeRoleDefaultPolicyAE4B4CF3', 'ServeBundlePointer66C8E8D4']);
  });
});
