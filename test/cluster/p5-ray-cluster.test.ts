/**
 * The P5RayCluster construct on its own, as another CDK app would use it: from the package entry point, in the
 * user's own stack and VPC, without this repository's app, cdk-nag or cost review.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { App, CfnWaitCondition, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { ConfigError, P5RayCluster, parseClusterConfig } from '../../lib';

function userStack(region: string | null = 'us-east-2'): Stack {
  return new Stack(new App({ builtinCloudFormationValidation: false }), 'PlatformTeamStack', region ? { env: { region } } : {});
}

function messagesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return [...error.problems];
  }
  assert.fail('expected a ConfigError');
}

describe('P5RayCluster in a user\'s own stack and VPC', () => {
  // GIVEN a platform team's stack with its own VPC (private subnets with NAT in two zones) and its own tags
  const stack = userStack();
  const vpc = new ec2.Vpc(stack, 'TeamVpc', { availabilityZones: ['us-east-2a', 'us-east-2b'], natGateways: 1 });
  // WHEN the cluster is added with a few settings
  const cluster = new P5RayCluster(stack, 'Inference', {
    vpc, availabilityZone: 'us-east-2b', gpuNodes: 3, headInstanceType: 'none', maxHours: 4,
  });
  const template = Template.fromStack(stack);
  const json = template.toJSON();

  it('creates no VPC, NAT or endpoint of its own and puts every node in the team VPC\'s private subnet of its zone', () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    const subnet = vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, availabilityZones: ['us-east-2b'] }).subnets[0];
    const subnetLogicalId = stack.getLogicalId(subnet.node.defaultChild as ec2.CfnSubnet);
    const templates = Object.values(json.Resources as Record<string, any>).filter((r) => r.Type === 'AWS::EC2::LaunchTemplate');
    assert.equal(templates.length, 1, 'one GPU launch template: the head runs on GPU node 0');
    for (const iface of templates[0].Properties.LaunchTemplateData.NetworkInterfaces) {
      assert.deepEqual(iface.SubnetId, { Ref: subnetLogicalId });
    }
  });

  it('launches the configured GPU nodes and exposes them, with the head on GPU node 0', () => {
    template.resourceCountIs('AWS::EC2::Instance', 3);
    assert.equal(cluster.gpuInstances.length, 3);
    assert.equal(cluster.rayHead, cluster.gpuInstances[0]);
    assert.equal(cluster.config.region, 'us-east-2', 'the region comes from the stack');
    assert.equal(cluster.config.stackName, 'PlatformTeamStack');
  });

  it('exposes what a composing app needs as typed attributes', () => {
    assert.ok(cluster.readiness instanceof CfnWaitCondition);
    assert.ok(cluster.securityGroup instanceof ec2.SecurityGroup);
    assert.equal(cluster.vpc, vpc);
    assert.ok(cluster.artifactsBucket.bucketName);
    assert.match(cluster.commands.dashboardPortForward, /^aws ssm start-session --region us-east-2 --target \$\{Token\[.*\]\} --document-name AWS-StartPortForwardingSession/);
    assert.equal(cluster.serveBundle.files.some((f) => f.path === 'pd_nixl.yaml'), true);
    template.hasResourceProperties('AWS::CloudFormation::WaitCondition', { Count: 3 });
  });

  it('lets the composing app wait for the cluster to be ready', () => {
    const other = userStack();
    const ready = new P5RayCluster(other, 'Cluster', { headInstanceType: 'none' }).readiness;
    new ec2.CfnEIP(other, 'AfterReady', {}).node.addDependency(ready);
    const synthesized = Template.fromStack(other).toJSON();
    assert.deepEqual(synthesized.Resources.AfterReady.DependsOn, [other.getLogicalId(ready)]);
  });

  it('tags its own resources for cost allocation with the stack name', () => {
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        TagSpecifications: Match.arrayWith([Match.objectLike({ ResourceType: 'instance', Tags: Match.arrayWith([{ Key: 'p5-ray:cluster', Value: 'PlatformTeamStack' }]) })]),
      }),
    });
  });

  it('stops exactly its GPU nodes after maxHours', () => {
    template.hasResourceProperties('Custom::SpendGuardStopTime', { MaxHours: '4' });
  });
});

describe('P5RayCluster props validation', () => {
  it('throws the same one-line, named errors as the settings parser', () => {
    const fromProps = messagesOf(() => new P5RayCluster(userStack('us-east-1'), 'C', { gpuNodes: 1, tensorParallelSize: 3 }));
    const fromSettings = messagesOf(() => parseClusterConfig({ gpuNodes: 1, tensorParallelSize: 3 }));
    assert.deepEqual(fromProps, fromSettings);
    assert.equal(fromProps.length, 2);
    assert.match(fromProps[0], /^invalid setting gpuNodes=1: must be a whole number from 2 to 16/);
  });

  it('checks the stack\'s region like the region setting', () => {
    assert.match(messagesOf(() => new P5RayCluster(userStack('af-south-1'), 'C', { headInstanceType: 'none' }))[0],
      /^invalid setting region=af-south-1: p5\.48xlarge \(gpuInstanceType\) is not sold there/);
  });

  it('needs a stack with an explicit region', () => {
    assert.match(messagesOf(() => new P5RayCluster(userStack(null), 'C'))[0], /needs a stack with an explicit region/);
  });

  it('refuses the app-only settings, naming what to pass instead', () => {
    const props = { vpcId: 'vpc-0123456789abcdef0' } as unknown as ConstructorParameters<typeof P5RayCluster>[2];
    assert.match(messagesOf(() => new P5RayCluster(userStack(), 'C', props))[0], /^vpcId is not a P5RayCluster prop: pass vpc and vpcSubnets/);
  });

  it('allows one cluster per stack', () => {
    const stack = userStack();
    new P5RayCluster(stack, 'One');
    assert.match(messagesOf(() => new P5RayCluster(stack, 'Two'))[0], /a stack holds one P5RayCluster; PlatformTeamStack already has PlatformTeamStack\/One/);
  });

  it('refuses a subnet selection outside its availability zone', () => {
    const stack = userStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { availabilityZones: ['us-east-2a'], natGateways: 1 });
    assert.match(messagesOf(() => new P5RayCluster(stack, 'C', { vpc, availabilityZone: 'us-east-2b' }))[0],
      /^vpcSubnets selects no subnet of the given vpc \(default: private subnets with egress in us-east-2b\)/);
    const stack2 = userStack();
    const vpc2 = new ec2.Vpc(stack2, 'Vpc', { availabilityZones: ['us-east-2a', 'us-east-2b'], natGateways: 1 });
    assert.match(messagesOf(() => new P5RayCluster(stack2, 'C', {
      vpc: vpc2, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, availabilityZones: ['us-east-2a'] }, availabilityZone: 'us-east-2b',
    }))[0], /^invalid setting availabilityZone=us-east-2b: the selected subnet .* is in us-east-2a/);
  });
});
