import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ClusterNodes, NodeIdentity } from '../../lib/compute/cluster-nodes';
import { NodeLaunchTemplate } from '../../lib/compute/node-launch-template';
import { parseClusterConfig } from '../../lib/config/cluster-config';

const newStack = () => new Stack(new App({ builtinCloudFormationValidation: false }), 'Nodes', { env: { region: 'us-east-1' } });

function nodes(raw: Record<string, unknown>, inputs: Record<string, string | number> = { ami: 'x@1' }) {
  const stack = newStack();
  const seen: NodeIdentity[] = [];
  const handles: string[] = [];
  const construct = new ClusterNodes(stack, 'Nodes', {
    config: parseClusterConfig(raw), imageId: 'ami-0123456789abcdef0', subnetId: 'subnet-1', securityGroupId: 'sg-1',
    gpuInstanceProfileArn: 'arn:gpu', headInstanceProfileArn: 'arn:head', placementGroupName: 'pg', tags: { team: 'ml' },
    generationInputs: inputs,
    readinessHandle: (id) => { handles.push(id); return `https://signal/${id}`; },
    launchAfter: [],
    userData: (node, generation) => {
      if (!generation.id.startsWith('@@')) seen.push(node);
      return `#!/bin/bash\necho ${node.role}-${node.gpuIndex} ${generation.id} ${generation.signalUrl}`;
    },
  });
  return { construct, template: Template.fromStack(stack), seen, handles };
}

describe('ClusterNodes', () => {
  it('launches the GPU nodes from one EFA launch template into the placement group, and a separate CPU head', () => {
    const { template, seen, construct } = nodes({ gpuNodes: 3 });
    template.resourceCountIs('AWS::EC2::Instance', 4);
    template.resourceCountIs('AWS::EC2::LaunchTemplate', 2);
    const gpus = Object.values(template.findResources('AWS::EC2::Instance')).filter((i) => i.Properties.PlacementGroupName === 'pg');
    assert.equal(gpus.length, 3);
    assert.deepEqual(seen.map((n) => `${n.role}${n.gpuIndex}${n.isRayHead ? 'H' : ''}`), ['gpu0', 'gpu1', 'gpu2', 'head0H']);
    assert.equal(construct.rayHead, construct.headInstance);
  });

  it('runs the Ray head on GPU node 0 when there is no head type', () => {
    const { template, seen, construct } = nodes({ headInstanceType: 'none' });
    template.resourceCountIs('AWS::EC2::Instance', 2);
    assert.deepEqual(seen.map((n) => n.isRayHead), [true, false]);
    assert.equal(construct.rayHead, construct.gpuInstances[0]);
  });
});

describe('ClusterNodes generation', () => {
  it('names one readiness handle for the generation and puts the generation in every launch template and user data', () => {
    const { construct, template, handles } = nodes({});
    const id = construct.generation.id;
    assert.match(id, /^[0-9a-f]{8}$/);
    assert.deepEqual(handles, [id]);
    assert.equal(construct.generation.signalUrl, `https://signal/${id}`);
    for (const lt of Object.values(template.findResources('AWS::EC2::LaunchTemplate'))) {
      const tags = lt.Properties.LaunchTemplateData.TagSpecifications[0].Tags;
      assert.ok(tags.some((t: { Key: string; Value: string }) => t.Key === 'p5-ray:node-generation' && t.Value === id), JSON.stringify(tags));
    }
    for (const i of Object.values(template.findResources('AWS::EC2::Instance'))) {
      assert.deepEqual(i.Properties.LaunchTemplate.Version['Fn::Select'][1][1], id, 'the version names the generation, for cdk diff');
      assert.match(JSON.stringify(i.Properties.UserData), new RegExp(`${id} https://signal/${id}`));
    }
  });

  it('is the same for the same definition, and new for another AMI input, user data or launch template', () => {
    const base = nodes({}).construct.generation.id;
    assert.equal(nodes({}).construct.generation.id, base);
    assert.notEqual(nodes({}, { ami: 'x@2' }).construct.generation.id, base);
    assert.notEqual(nodes({ rootVolumeGiB: 400 }).construct.generation.id, base);
    assert.notEqual(nodes({ gpuNodes: 3 }).construct.generation.id, base);
    assert.equal(nodes({ maxModelLen: 20000 }).construct.generation.id, base, 'a serve setting defines no node');
  });
});

describe('NodeLaunchTemplate', () => {
  it('requires IMDSv2, encrypts the root volume and targets a Capacity Block when given one', () => {
    const stack = newStack();
    new NodeLaunchTemplate(stack, 'T', {
      instanceType: 'p5.48xlarge', imageId: 'ami-1', instanceProfileArn: 'arn:p', networkInterfaces: [], rootVolumeGiB: 300,
      capacity: { reservationId: 'cr-0123456789abcdef0', capacityBlock: true }, tags: { a: 'b' },
    });
    Template.fromStack(stack).hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: {
        MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 1 },
        BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { VolumeSize: 300, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true } }],
        InstanceMarketOptions: { MarketType: 'capacity-block' },
        CapacityReservationSpecification: { CapacityReservationTarget: { CapacityReservationId: 'cr-0123456789abcdef0' } },
      },
    });
  });
});
