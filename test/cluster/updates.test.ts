/**
 * What a `cdk deploy` does to a running cluster, per user action: the template before and after, compared the way
 * CloudFormation decides (test/helpers/cfn-update.ts: create-only properties from the CloudFormation resource
 * schemas cfn-lint ships). Each test states which resources change and how.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { READINESS_GATE_LOGICAL_ID } from '../../lib/catalog/stack-names';
import { RawConfig } from '../../lib/config/cluster-config';
import { ResourcePlan, TemplateJson, byAction, cfnLintVersion, planUpdate, ssmParameters, typeFacts } from '../helpers/cfn-update';
import { clusterTemplate } from '../helpers/stack-template';

const NODES = ['NodesGpuNode0C1F56665', 'NodesGpuNode1CEFBE4ED', 'NodesHeadNode8B836FC2'];
const LAUNCH_TEMPLATES = ['NodesGpuLaunchTemplateB959A95D', 'NodesHeadLaunchTemplateA2531F6D'];

/** The readiness wait and its handle of a template (their ids carry the node generation). */
function gateOf(t: TemplateJson): { wait: string; handle: string; generation: string } {
  const wait = Object.keys(t.Resources).find((id) => t.Resources[id].Type === 'AWS::CloudFormation::WaitCondition');
  const handle = Object.keys(t.Resources).find((id) => t.Resources[id].Type === 'AWS::CloudFormation::WaitConditionHandle');
  assert.ok(wait && handle, 'one readiness wait and handle');
  const generation = wait.slice(READINESS_GATE_LOGICAL_ID.length);
  assert.equal(handle, `ReadinessHandle${generation}`);
  return { wait, handle, generation };
}

function plan(before: RawConfig, after: RawConfig, changedParameters: string[] = []): Map<string, ResourcePlan> {
  return planUpdate(clusterTemplate(before), clusterTemplate(after), { changedParameters });
}

describe(`updates of a running cluster, as CloudFormation decides them (${cfnLintVersion()})`, () => {
  const base = clusterTemplate({});
  const gate = gateOf(base);

  it('reads the create-only properties from the schemas: LaunchTemplate replaces an instance, UserData interrupts it', () => {
    const instance = typeFacts('AWS::EC2::Instance');
    assert.ok(instance.createOnly.some((p) => p.join('.') === 'LaunchTemplate'));
    assert.ok(instance.createOnly.some((p) => p.join('.') === 'PlacementGroupName'));
    assert.ok(instance.conditionalCreateOnly.some((p) => p.join('.') === 'UserData'));
    assert.ok(typeFacts('Custom::Anything').createOnly.some((p) => p.join('.') === 'ServiceToken'));
  });

  it('AWS publishes a new DLAMI: a redeploy of the same configuration changes nothing (the AMI was resolved once)', () => {
    // Every SSM-typed template parameter resolves to a new value: nothing may depend on one.
    const updates = plan({}, {}, ssmParameters(base));
    assert.deepEqual(byAction(updates), {});
    assert.equal(JSON.stringify(base.Resources).includes('AWS::SSM::Parameter::Value'), false);
    assert.deepEqual(ssmParameters(base).filter((p) => JSON.stringify(base.Resources).includes(`"${p}"`)), [],
      'no resource refers to a parameter CloudFormation resolves anew at every deploy');
  });

  it('raised maxHours: the spend guard is updated in place; no node, launch template or readiness wait changes', () => {
    assert.deepEqual(byAction(plan({}, { maxHours: 12 })), {
      update: ['SpendGuardRearmFunction33A880AE', 'SpendGuardRearmOnStart54A54829', 'SpendGuardStopScheduleCD7294D2', 'SpendGuardStopTimeA4637170'],
    });
  });

  it('new maxModelLen: only the serve bundle pointer and the policies naming the bundle object change, in place', () => {
    const updates = plan({}, { maxModelLen: 20000 });
    assert.deepEqual(byAction(updates), {
      update: ['GpuNodeRoleDefaultPolicyB3229D96', 'HeadNodeRoleDefaultPolicyAE4B4CF3', 'ServeBundlePointer66C8E8D4'],
    });
    for (const id of NODES) assert.equal(updates.get(id)?.action, 'unchanged', `${id}: its user data names no bundle`);
  });

  it('one more GPU node: every node is replaced (never stopped and started), and a new readiness wait gates the new set', () => {
    const after = clusterTemplate({ gpuNodes: 3 });
    const next = gateOf(after);
    assert.notEqual(next.generation, gate.generation);
    const updates = planUpdate(base, after);
    const actions = byAction(updates);
    assert.deepEqual(actions.replacement, NODES);
    for (const id of NODES) assert.deepEqual(updates.get(id)?.because, ['LaunchTemplate'], id);
    assert.deepEqual(actions.added, [next.wait, 'NodesGpuNode26DB87A1D', next.handle].sort());
    assert.deepEqual(actions.removed, [gate.wait, gate.handle].sort());
    assert.equal(after.Resources[next.wait].Properties?.Count, 4, 'the new wait counts every node of the new set');
    assert.equal(actions['update with interruption'], undefined);
    assert.equal(actions['update not supported'], undefined);
    // The launch templates get a version of the new generation; the network, bucket and placement group stay.
    for (const id of LAUNCH_TEMPLATES) assert.equal(updates.get(id)?.action, 'update');
    for (const id of ['PlacementGroup68E91A0F', 'NetworkVpc7FB7348F', 'ArtifactsBucket88671897', 'BootstrapLogsA435FFA5']) {
      assert.equal(updates.get(id)?.action, 'unchanged', id);
    }
    // The spend guard follows the new instances: a new stop time for them, the rule and the scheduler role name them.
    for (const id of ['SpendGuardStopTimeA4637170', 'SpendGuardRearmOnStart54A54829', 'SpendGuardStopSchedulerRoleDefaultPolicyC81147F7']) {
      assert.equal(updates.get(id)?.action, 'update', id);
    }
  });

  it('amiGeneration raised: the AMI is resolved again and every node is replaced, gated by a new wait', () => {
    const updates = plan({}, { amiGeneration: 2 });
    const actions = byAction(updates);
    assert.deepEqual(actions.replacement, NODES);
    assert.equal(updates.get('Ami6D3363E9')?.action, 'update', 'the custom resource is asked again (Generation changed)');
    assert.equal(actions.added?.filter((id) => id.startsWith(READINESS_GATE_LOGICAL_ID)).length, 1);
    assert.deepEqual(actions.removed, [gate.wait, gate.handle].sort());
  });

  it('restart after the guard: a redeploy of the same configuration leaves every resource alone, so no stopped node is started', () => {
    // The template is all CloudFormation compares: the same settings give the same template, byte for byte.
    assert.equal(JSON.stringify(clusterTemplate({ maxHours: 8 })), JSON.stringify(base));
    assert.deepEqual(byAction(plan({}, { maxHours: 8 })), {});
  });
});

describe('the update planner itself', () => {
  /** Two instances from one launch template whose image is a resolve-every-deploy SSM parameter, as this stack had. */
  const ssmStack = (userData: string): TemplateJson => ({
    Parameters: { Ami: { Type: 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>' } },
    Resources: {
      Lt: { Type: 'AWS::EC2::LaunchTemplate', Properties: { LaunchTemplateData: { ImageId: { Ref: 'Ami' } } } },
      Node: {
        Type: 'AWS::EC2::Instance',
        Properties: {
          LaunchTemplate: { LaunchTemplateId: { Ref: 'Lt' }, Version: { 'Fn::GetAtt': ['Lt', 'LatestVersionNumber'] } },
          UserData: { 'Fn::Base64': userData },
        },
      },
      Wait: { Type: 'AWS::CloudFormation::WaitCondition', Properties: { Count: 1, Handle: 'h', Timeout: '600' } },
    },
  });

  it('replaces an instance whose launch template took a newly published AMI', () => {
    const updates = planUpdate(ssmStack('a'), ssmStack('a'), { changedParameters: ['Ami'] });
    assert.equal(updates.get('Lt')?.action, 'update');
    assert.equal(updates.get('Node')?.action, 'replacement');
    assert.equal(planUpdate(ssmStack('a'), ssmStack('a')).get('Node')?.action, 'unchanged');
  });

  it('stops and starts an instance whose user data changed, and refuses a changed WaitCondition count', () => {
    assert.equal(planUpdate(ssmStack('a'), ssmStack('b')).get('Node')?.action, 'update with interruption');
    const more = ssmStack('a');
    (more.Resources.Wait.Properties as Record<string, unknown>).Count = 2;
    assert.equal(planUpdate(ssmStack('a'), more).get('Wait')?.action, 'update not supported');
  });
});
