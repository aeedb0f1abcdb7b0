import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { COST_TAG_KEY as STACK_COST_TAG_KEY } from '../../lib/cluster/p5-ray-cluster';
import {
  COST_TAG_KEY, NODE_GENERATION_TAG, STACK_OUTPUTS, bootstrapLogGroupName, nodeFromNameTag, readinessGateLogicalId,
} from '../../lib/catalog/stack-names';
import { resourcesOf, synth } from '../helpers/synth';

/** The names the commands look up in a deployed stack, checked against what the real stack synthesizes. */
describe('the stack facts the operations commands rely on', () => {
  it('match the default stack: outputs, readiness gate, log group, cost tag, node names', async () => {
    const s = await synth({}, {}, { cfnValidation: false });
    const outputs = Object.keys(s.json.Outputs ?? {});
    for (const name of Object.values(STACK_OUTPUTS)) assert.ok(outputs.includes(name), `output ${name} in ${outputs.join(', ')}`);
    // status finds the readiness gate from the generation tag the nodes carry (their launch templates put it on them).
    const generation = s.json.Outputs?.[STACK_OUTPUTS.nodeGeneration].Value;
    assert.equal(s.json.Resources[readinessGateLogicalId(generation)]?.Type, 'AWS::CloudFormation::WaitCondition');
    for (const [, lt] of resourcesOf(s, 'AWS::EC2::LaunchTemplate')) {
      const instanceTags = lt.Properties.LaunchTemplateData.TagSpecifications.find((t: any) => t.ResourceType === 'instance').Tags;
      assert.ok(instanceTags.some((t: any) => t.Key === NODE_GENERATION_TAG && t.Value === generation), JSON.stringify(instanceTags));
    }
    const groups = resourcesOf(s, 'AWS::Logs::LogGroup').map(([, r]) => r.Properties?.LogGroupName);
    assert.ok(groups.includes(bootstrapLogGroupName('P5RayKvCluster')), groups.join(', '));
    assert.equal(COST_TAG_KEY, STACK_COST_TAG_KEY);

    const names = resourcesOf(s, 'AWS::EC2::Instance').map(([, r]) =>
      nodeFromNameTag('P5RayKvCluster', (r.Properties.Tags as Array<{ Key: string; Value: string }>).find((t) => t.Key === 'Name')?.Value));
    assert.deepEqual(names, [{ name: 'gpu-0', isRayHead: false }, { name: 'gpu-1', isRayHead: false }, { name: 'head', isRayHead: true }]);
  });

  it('match a stack with another name and the Ray head on GPU node 0', async () => {
    const s = await synth({ stackName: 'Exp2', headInstanceType: 'none', gpuNodes: '3' }, {}, { cfnValidation: false });
    const groups = resourcesOf(s, 'AWS::Logs::LogGroup').map(([, r]) => r.Properties?.LogGroupName);
    assert.ok(groups.includes(bootstrapLogGroupName('Exp2')));
    const names = resourcesOf(s, 'AWS::EC2::Instance').map(([, r]) =>
      nodeFromNameTag('Exp2', (r.Properties.Tags as Array<{ Key: string; Value: string }>).find((t) => t.Key === 'Name')?.Value));
    assert.deepEqual(names, [{ name: 'gpu-0', isRayHead: true }, { name: 'gpu-1', isRayHead: false }, { name: 'gpu-2', isRayHead: false }]);
  });
});
