import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';

let cached: Record<string, any> | undefined;

/**
 * A small stack shaped like the real one, synthesized once per test file: two GPU nodes whose type and volumes
 * live in a launch template (one referenced by Ref, one by GetAtt), a CPU head with its own type and volume,
 * NAT + EIP, an interface and a gateway endpoint, a log group, a bucket, a Lambda, a stop schedule, and one
 * resource type the cost review has never heard of.
 */
export function costFixtureTemplate(): Record<string, any> {
  if (cached) return cached;
  // Skip the built-in CloudFormation validation: it triples the synth time and the fixture is not a real stack.
  const app = new App({ builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'CostFixture', { env: { region: 'us-east-1', account: '111122223333' } });
  const vpc = new ec2.CfnVPC(stack, 'Vpc', { cidrBlock: '10.0.0.0/16' });
  const subnetA = new ec2.CfnSubnet(stack, 'SubnetA', { vpcId: vpc.ref, cidrBlock: '10.0.0.0/24' });
  const subnetB = new ec2.CfnSubnet(stack, 'SubnetB', { vpcId: vpc.ref, cidrBlock: '10.0.1.0/24' });
  new ec2.CfnSecurityGroup(stack, 'Sg', { groupDescription: 'efa', vpcId: vpc.ref });

  const gpuTemplate = new ec2.CfnLaunchTemplate(stack, 'GpuLaunchTemplate', {
    launchTemplateData: {
      instanceType: 'p5.48xlarge',
      blockDeviceMappings: [{ deviceName: '/dev/sda1', ebs: { volumeSize: 300, volumeType: 'gp3', iops: 6000, throughput: 250, encrypted: true } }],
    },
  });
  new ec2.CfnInstance(stack, 'GpuNode0', {
    launchTemplate: { launchTemplateId: gpuTemplate.ref, version: gpuTemplate.attrLatestVersionNumber },
  });
  new ec2.CfnInstance(stack, 'GpuNode1', {
    launchTemplate: { launchTemplateId: gpuTemplate.attrLaunchTemplateId, version: gpuTemplate.attrLatestVersionNumber },
  });
  new ec2.CfnInstance(stack, 'HeadNode', {
    instanceType: 'm7i.2xlarge',
    imageId: 'ami-12345678',
    blockDeviceMappings: [{ deviceName: '/dev/sda1', ebs: { volumeSize: 100, volumeType: 'gp3' } }],
  });

  const eip = new ec2.CfnEIP(stack, 'NatEip', { domain: 'vpc' });
  new ec2.CfnNatGateway(stack, 'Nat', { subnetId: subnetA.ref, allocationId: eip.attrAllocationId });
  new ec2.CfnVPCEndpoint(stack, 'SsmEndpoint', {
    vpcId: vpc.ref, vpcEndpointType: 'Interface', serviceName: 'com.amazonaws.us-east-1.ssm',
    subnetIds: [subnetA.ref, subnetB.ref],
  });
  new ec2.CfnVPCEndpoint(stack, 'S3Endpoint', { vpcId: vpc.ref, serviceName: 'com.amazonaws.us-east-1.s3' });
  new logs.CfnLogGroup(stack, 'NodeLogs', { retentionInDays: 30 });
  new s3.CfnBucket(stack, 'Artifacts', {});
  new lambda.CfnFunction(stack, 'Fn', {
    role: 'arn:aws:iam::111122223333:role/x', runtime: 'nodejs24.x', handler: 'index.handler', code: { zipFile: 'exports.handler=async()=>{}' },
  });
  new scheduler.CfnSchedule(stack, 'Stop', {
    scheduleExpression: 'at(2030-01-01T00:00:00)', flexibleTimeWindow: { mode: 'OFF' },
    target: {
      arn: 'arn:aws:scheduler:::aws-sdk:ec2:stopInstances', roleArn: 'arn:aws:iam::111122223333:role/s',
      input: stack.toJsonString({ InstanceIds: [stack.node.findChild('GpuNode0'), stack.node.findChild('GpuNode1')].map((c) => (c as ec2.CfnInstance).ref) }),
    },
  });
  // The spend guard's stop-time resource carries its hours: the cost review reads maxHours from here.
  new CfnResource(stack, 'StopTime', { type: 'Custom::SpendGuardStopTime', properties: { ServiceToken: 'arn:aws:lambda:us-east-1:111122223333:function:f', MaxHours: '8' } });
  new CfnResource(stack, 'Mystery', { type: 'AWS::Mystery::Thing', properties: {} });
  cached = Template.fromStack(stack).toJSON();
  return cached;
}
