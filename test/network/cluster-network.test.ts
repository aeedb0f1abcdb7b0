import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { ClusterNetwork } from '../../lib/network/cluster-network';

const stack = () => new Stack(new App({ builtinCloudFormationValidation: false }), 'Net', { env: { region: 'us-east-1' } });

describe('ClusterNetwork, new VPC', () => {
  // GIVEN / WHEN
  const s = stack();
  const network = new ClusterNetwork(s, 'Network', { availabilityZone: 'us-east-1c' });
  const template = Template.fromStack(s);

  it('creates one VPC in the one zone, a NAT gateway, and S3 + SSM endpoints', () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    template.hasResourceProperties('AWS::EC2::Subnet', { AvailabilityZone: 'us-east-1c', MapPublicIpOnLaunch: false });
    const services = Object.values(template.findResources('AWS::EC2::VPCEndpoint')).map((r) => JSON.stringify(r.Properties.ServiceName));
    for (const s3OrSsm of ['.s3', '.ssm"', '.ssmmessages', '.ec2messages']) assert.ok(services.some((n) => n.includes(s3OrSsm)), s3OrSsm);
  });

  it('logs rejected flows only', () => {
    template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'REJECT' });
  });

  it('allows all traffic within its security group both ways, and only HTTPS/HTTP out', () => {
    const sgId = Stack.of(network).getLogicalId(network.securityGroup.node.defaultChild as ec2.CfnSecurityGroup);
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: '-1', GroupId: { 'Fn::GetAtt': [sgId, 'GroupId'] }, SourceSecurityGroupId: { 'Fn::GetAtt': [sgId, 'GroupId'] },
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      IpProtocol: '-1', GroupId: { 'Fn::GetAtt': [sgId, 'GroupId'] }, DestinationSecurityGroupId: { 'Fn::GetAtt': [sgId, 'GroupId'] },
    });
    const open = template.findResources('AWS::EC2::SecurityGroup', { Properties: { SecurityGroupIngress: Match.anyValue() } });
    for (const sg of Object.values(open)) {
      for (const rule of sg.Properties.SecurityGroupIngress) assert.notEqual(rule.CidrIp, '0.0.0.0/0', 'nothing in from the internet');
    }
    const egress = template.findResources('AWS::EC2::SecurityGroup')[sgId].Properties.SecurityGroupEgress;
    assert.deepEqual(egress.map((e: any) => e.FromPort).sort(), [443, 80].sort());
  });
});

describe('ClusterNetwork, existing VPC', () => {
  it('uses the selected subnet and creates no VPC, NAT or endpoint', () => {
    const s = stack();
    const vpc = ec2.Vpc.fromVpcAttributes(s, 'Imported', {
      vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['us-east-1a'], privateSubnetIds: ['subnet-0123456789abcdef0'],
    });
    const network = new ClusterNetwork(s, 'Network', { availabilityZone: 'us-east-1a', vpc });
    const template = Template.fromStack(s);
    assert.equal(network.subnetId, 'subnet-0123456789abcdef0');
    template.resourceCountIs('AWS::EC2::VPC', 0);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    template.hasResourceProperties('AWS::EC2::SecurityGroup', { VpcId: 'vpc-0123456789abcdef0' });
  });
});
