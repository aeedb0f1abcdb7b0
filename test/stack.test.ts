import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { COST_TAG_KEY } from '../lib/cluster/p5-ray-cluster';
import { launchTemplateOf, resourcesOf, synth, Synthesized } from './helpers/synth';

function artifactsBucketId(s: Synthesized): string {
  return resourcesOf(s, 'AWS::S3::Bucket').map(([id]) => id).find((id) => /Artifacts/.test(id))!;
}

function gpuInstances(s: Synthesized): any[] {
  return resourcesOf(s, 'AWS::EC2::Instance').map(([, r]) => r)
    .filter((r) => launchTemplateOf(s, r).InstanceType.startsWith('p'));
}

describe('default stack: 2x p5.48xlarge + CPU head', () => {
  let s: Synthesized;
  before(async () => { s = await synth(); });

  it('launches two p5.48xlarge GPU nodes and one CPU head', () => {
    const instances = resourcesOf(s, 'AWS::EC2::Instance').map(([, r]) => launchTemplateOf(s, r).InstanceType).sort();
    assert.deepEqual(instances, ['m7i.2xlarge', 'p5.48xlarge', 'p5.48xlarge']);
  });

  it('gives every GPU node all 32 EFA devices: ENA primary, efa-only on cards 0–31 (33 interfaces)', () => {
    for (const instance of gpuInstances(s)) {
      const ifaces: any[] = launchTemplateOf(s, instance).NetworkInterfaces;
      assert.equal(ifaces.length, 33);
      const efa = ifaces.filter((i) => i.InterfaceType === 'efa-only');
      assert.deepEqual(efa.map((i) => i.NetworkCardIndex).sort((a, b) => a - b), Array.from({ length: 32 }, (_, c) => c));
      const primary = ifaces.find((i) => i.NetworkCardIndex === 0 && i.DeviceIndex === 0);
      assert.equal(primary.InterfaceType, undefined);
      assert.deepEqual(efa.find((i) => i.NetworkCardIndex === 0).DeviceIndex, 1);
      for (const i of ifaces) {
        assert.equal(i.Groups.length, 1, 'security groups go inside each interface');
        assert.ok(i.SubnetId, 'each interface names the private subnet');
      }
      assert.equal(launchTemplateOf(s, instance).SecurityGroupIds, undefined);
    }
  });

  it('puts both GPU nodes, and only them, in one cluster placement group', () => {
    const [[pgId]] = resourcesOf(s, 'AWS::EC2::PlacementGroup');
    s.template.hasResourceProperties('AWS::EC2::PlacementGroup', { Strategy: 'cluster' });
    const gpus = gpuInstances(s);
    assert.equal(gpus.length, 2);
    for (const g of gpus) assert.equal(JSON.stringify(g.Properties.PlacementGroupName).includes(pgId), true, JSON.stringify(g.Properties.PlacementGroupName));
    const inGroup = resourcesOf(s, 'AWS::EC2::Instance').filter(([, r]) => r.Properties.PlacementGroupName);
    assert.equal(inGroup.length, 2);
  });

  it('lets the GPU nodes launch together: neither depends on the other or on the head', () => {
    const instanceIds = new Set(resourcesOf(s, 'AWS::EC2::Instance').map(([id]) => id));
    for (const g of gpuInstances(s)) {
      for (const dep of g.DependsOn ?? []) assert.ok(!instanceIds.has(dep), `GPU node depends on instance ${dep}`);
    }
  });

  it('allows all traffic within the cluster security group, both ways, and nothing in from outside', () => {
    const ingress = resourcesOf(s, 'AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties);
    const self = ingress.find((p) => p.IpProtocol === '-1' && p.SourceSecurityGroupId && JSON.stringify(p.SourceSecurityGroupId) === JSON.stringify(p.GroupId));
    assert.ok(self, 'a self-referencing all-traffic ingress rule');
    const egress = resourcesOf(s, 'AWS::EC2::SecurityGroupEgress').map(([, r]) => r.Properties);
    assert.ok(egress.find((p) => p.IpProtocol === '-1' && JSON.stringify(p.DestinationSecurityGroupId) === JSON.stringify(p.GroupId)), 'a self-referencing all-traffic egress rule');
    const [[clusterSgId, clusterSg]] = resourcesOf(s, 'AWS::EC2::SecurityGroup').filter(([id]) => /ClusterSecurityGroup/.test(id));
    const outward = (clusterSg.Properties.SecurityGroupEgress ?? []).map((r: any) => `${r.IpProtocol}:${r.FromPort}-${r.ToPort}:${r.CidrIp}`).sort();
    assert.deepEqual(outward, ['tcp:443-443:0.0.0.0/0', 'tcp:80-80:0.0.0.0/0'], `${clusterSgId}: outside the cluster, only HTTP(S) out`);
    const inline = resourcesOf(s, 'AWS::EC2::SecurityGroup').flatMap(([, r]) => r.Properties.SecurityGroupIngress ?? []);
    for (const rule of [...ingress, ...inline]) {
      assert.notEqual(rule.CidrIp, '0.0.0.0/0');
      assert.notEqual(rule.CidrIpv6, '::/0');
    }
  });

  it('requires IMDSv2 and encrypts every root volume', () => {
    const templates = resourcesOf(s, 'AWS::EC2::LaunchTemplate');
    assert.equal(templates.length, 2);
    for (const [, lt] of templates) {
      assert.equal(lt.Properties.LaunchTemplateData.MetadataOptions.HttpTokens, 'required');
      for (const bdm of lt.Properties.LaunchTemplateData.BlockDeviceMappings) {
        assert.equal(bdm.Ebs.Encrypted, true);
        assert.equal(bdm.Ebs.VolumeType, 'gp3');
        assert.ok(bdm.Ebs.VolumeSize >= 100);
      }
    }
  });

  it('resolves the DLAMI from its public SSM parameter once, at deploy time, into both launch templates', () => {
    const params: any[] = Object.values((s.json as any).Parameters ?? {});
    assert.ok(!params.some((p) => p.Type === 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>'), 'no parameter resolved anew at every deploy');
    const [[amiId, ami]] = resourcesOf(s, 'Custom::PinnedAmi');
    assert.deepEqual(ami.Properties.ParameterName, '/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-ubuntu-24.04/latest/ami-id');
    assert.equal(ami.Properties.Generation, '1');
    for (const [, lt] of resourcesOf(s, 'AWS::EC2::LaunchTemplate')) {
      assert.deepEqual(lt.Properties.LaunchTemplateData.ImageId, { 'Fn::GetAtt': [amiId, 'ImageId'] });
    }
  });

  it('keeps the nodes in a private subnet: no public IP on any interface', () => {
    for (const [, lt] of resourcesOf(s, 'AWS::EC2::LaunchTemplate')) {
      for (const i of lt.Properties.LaunchTemplateData.NetworkInterfaces) assert.notEqual(i.AssociatePublicIpAddress, true);
    }
    s.template.hasResourceProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: false, AvailabilityZone: 'us-east-1a' });
  });

  it('has S3 and SSM endpoints and one NAT gateway', () => {
    s.template.resourceCountIs('AWS::EC2::NatGateway', 1);
    const endpoints = resourcesOf(s, 'AWS::EC2::VPCEndpoint').map(([, r]) => JSON.stringify(r.Properties.ServiceName));
    for (const svc of ['s3', 'ssm', 'ssmmessages', 'ec2messages']) {
      assert.ok(endpoints.some((e) => e.includes(`.${svc}"`) || e.endsWith(`.${svc}`) || e.includes(`${svc}"`)), `endpoint for ${svc}: ${endpoints.join(' ')}`);
    }
  });

  it('retains nothing: destroy deletes every resource', () => {
    for (const [id, r] of Object.entries(s.json.Resources)) {
      assert.ok(!['Retain', 'RetainExceptOnCreate', 'Snapshot'].includes(r.DeletionPolicy ?? ''), `${id} has DeletionPolicy ${r.DeletionPolicy}`);
      assert.ok(!['Retain', 'Snapshot'].includes(r.UpdateReplacePolicy ?? ''), `${id} has UpdateReplacePolicy ${r.UpdateReplacePolicy}`);
    }
    s.template.hasResource('Custom::S3AutoDeleteObjects', {});
  });

  it('leaves no log group behind: every function logs to a group of the stack and none may create one', () => {
    const groups = new Set(resourcesOf(s, 'AWS::Logs::LogGroup').map(([id]) => id));
    for (const [id, fn] of resourcesOf(s, 'AWS::Lambda::Function')) {
      const declared = fn.Properties.LoggingConfig?.LogGroup?.Ref ??
        resourcesOf(s, 'AWS::Logs::LogGroup').find(([, g]) => JSON.stringify(g.Properties.LogGroupName ?? '').includes(`"${id}"`))?.[0];
      assert.ok(declared && groups.has(declared), `${id} logs to a group of the stack`);
      assert.equal(s.json.Resources[declared].DeletionPolicy, 'Delete', `${declared} goes with the stack`);
      // aws/aws-cdk#31487: with logs:CreateLogGroup, a function's last log lines recreate its group after the delete.
      const roleId = fn.Properties.Role['Fn::GetAtt'][0];
      const inline = (s.json.Resources[roleId].Properties.Policies ?? []).flatMap((p: any) => p.PolicyDocument.Statement);
      const attached = resourcesOf(s, 'AWS::IAM::Policy').filter(([, p]) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
        .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
      const statements = [...inline, ...attached];
      const denied = statements.some((st: any) => st.Effect === 'Deny' && [st.Action].flat().includes('logs:CreateLogGroup'));
      const managed = JSON.stringify(s.json.Resources[roleId].Properties.ManagedPolicyArns ?? []);
      const allowed = statements.some((st: any) => st.Effect === 'Allow' && [st.Action].flat().some((a: string) => a === 'logs:CreateLogGroup' || a === 'logs:*')) ||
        managed.includes('AWSLambdaBasicExecutionRole');
      assert.ok(!allowed || denied, `${id}'s role ${roleId} may create log groups`);
    }
  });

  it('declares the log group of the bucket-emptying function, so destroy removes it after the last run', () => {
    const [[handlerId]] = resourcesOf(s, 'AWS::Lambda::Function').filter(([id]) => id.startsWith('CustomS3AutoDeleteObjects'));
    const groups = resourcesOf(s, 'AWS::Logs::LogGroup').filter(([, r]) => JSON.stringify(r.Properties.LogGroupName ?? '').includes(handlerId));
    assert.equal(groups.length, 1, `a log group named after ${handlerId}`);
    assert.match(JSON.stringify(groups[0][1].Properties.LogGroupName), /\/aws\/lambda\//);
    const [[, emptying]] = resourcesOf(s, 'Custom::S3AutoDeleteObjects');
    assert.ok(emptying.DependsOn.includes(groups[0][0]), 'the emptying runs while its log group still exists');
  });

  it('encrypts the artifacts bucket, blocks public access and refuses plain HTTP', () => {
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
    s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('grants the node roles no wildcard resource and no action beyond SSM, logs, their prefixes', () => {
    const nodeRoles = resourcesOf(s, 'AWS::IAM::Role').filter(([id]) => /NodeRole/.test(id));
    assert.equal(nodeRoles.length, 2);
    const policies = resourcesOf(s, 'AWS::IAM::Policy').filter(([id]) => /NodeRole/.test(id));
    assert.equal(policies.length, 2);
    for (const [id, p] of policies) {
      for (const st of p.Properties.PolicyDocument.Statement) {
        const resources = [st.Resource].flat();
        assert.ok(!resources.includes('*'), `${id} ${st.Sid} grants Resource *`);
        for (const action of [st.Action].flat()) assert.match(action, /^(s3:(GetObject|PutObject|ListBucket)|logs:(CreateLogStream|PutLogEvents|DescribeLogStreams)|secretsmanager:GetSecretValue|ssm:GetParameter)$/);
        if ([st.Action].flat().includes('ssm:GetParameter')) {
          assert.deepEqual(st.Resource, { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ssm:us-east-1:', { Ref: 'AWS::AccountId' }, ':parameter/p5-ray/P5RayKvCluster/serve-bundle']] },
            `${id}: only the serve bundle's pointer`);
        }
      }
    }
    const gpuPolicy = policies.find(([id]) => /GpuNodeRole/.test(id))![1];
    const gpuWrites = gpuPolicy.Properties.PolicyDocument.Statement.filter((st: any) => [st.Action].flat().includes('s3:PutObject'));
    // With a separate head, a GPU node writes only its own facts file (cluster/nodes/<role>-<index>.json).
    assert.deepEqual(gpuWrites.map((st: any) => JSON.stringify(st.Resource)),
      [JSON.stringify({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [artifactsBucketId(s), 'Arn'] }, '/cluster/nodes/*']] })]);
  });

  it('lets the head role write serve/, cluster/ and results/ and nothing else; the GPU role only read cluster/', () => {
    const statements = (role: RegExp) => resourcesOf(s, 'AWS::IAM::Policy').find(([id]) => role.test(id))![1].Properties.PolicyDocument.Statement;
    const prefixesOf = (st: any) => [st.Resource].flat().map((r: any) => r['Fn::Join'][1][1]).sort();
    const headWrites = statements(/HeadNodeRole/).filter((st: any) => [st.Action].flat().includes('s3:PutObject'));
    assert.equal(headWrites.length, 1);
    assert.deepEqual(prefixesOf(headWrites[0]), ['/cluster/*', '/results/*', '/serve/*']);
    assert.deepEqual(prefixesOf(statements(/GpuNodeRole/).find((st: any) => st.Sid === 'ReadArtifacts')), ['/cluster/*']);
  });

  it('lets every node log only to this stack\'s own bootstrap log group', () => {
    const [[logGroupId, logGroup]] = resourcesOf(s, 'AWS::Logs::LogGroup').filter(([, r]) => r.Properties.LogGroupName === '/p5-ray/P5RayKvCluster/bootstrap');
    assert.ok(logGroup);
    for (const [id, policy] of resourcesOf(s, 'AWS::IAM::Policy').filter(([pid]) => /NodeRole/.test(pid))) {
      const logs = policy.Properties.PolicyDocument.Statement.find((st: any) => st.Sid === 'BootstrapLogs');
      assert.deepEqual(logs.Resource, { 'Fn::GetAtt': [logGroupId, 'Arn'] }, id);
    }
  });

  it('wires the spend guard to exactly the GPU instances: the stop time, the schedule target and its role, never the head', () => {
    const gpuIds = resourcesOf(s, 'AWS::EC2::Instance').filter(([, r]) => launchTemplateOf(s, r).InstanceType.startsWith('p')).map(([id]) => id).sort();
    const [[headId]] = resourcesOf(s, 'AWS::EC2::Instance').filter(([, r]) => !launchTemplateOf(s, r).InstanceType.startsWith('p'));
    const refs = (value: unknown) => [...JSON.stringify(value).matchAll(/\\?"Ref\\?":\s*\\?"([A-Za-z0-9]+)\\?"/g)].map((m) => m[1]).sort();
    const [[, stopTime]] = resourcesOf(s, 'Custom::SpendGuardStopTime');
    assert.deepEqual(refs(stopTime.Properties.InstanceIds), gpuIds);
    assert.equal(stopTime.Properties.MaxHours, '8');
    const [[, schedule]] = resourcesOf(s, 'AWS::Scheduler::Schedule');
    assert.match(schedule.Properties.Target.Arn['Fn::Join'][1].join(''), /:scheduler:::aws-sdk:ec2:stopInstances$/);
    assert.deepEqual(refs(schedule.Properties.Target.Input), gpuIds);
    const roleId = schedule.Properties.Target.RoleArn['Fn::GetAtt'][0];
    const [[, rolePolicy]] = resourcesOf(s, 'AWS::IAM::Policy').filter(([, p]) => p.Properties.Roles.some((r: any) => r.Ref === roleId));
    const [stop] = rolePolicy.Properties.PolicyDocument.Statement;
    assert.equal(stop.Action, 'ec2:StopInstances');
    assert.deepEqual(refs(stop.Resource), gpuIds);
    assert.ok(!JSON.stringify([stopTime, schedule, rolePolicy]).includes(headId), 'the head is never stopped');
  });

  it('gates success on every node reporting ready: a wait condition for 3 signals after all instances', () => {
    const [[, wc]] = resourcesOf(s, 'AWS::CloudFormation::WaitCondition');
    assert.equal(wc.Properties.Count, 3);
    assert.equal(wc.Properties.Timeout, String(90 * 60));
    const instanceIds = resourcesOf(s, 'AWS::EC2::Instance').map(([id]) => id);
    for (const id of instanceIds) assert.ok(wc.DependsOn.includes(id), `wait condition waits for ${id}`);
  });

  it('hands each node user data that carries its generation\'s signal URL and the bucket, and names no serve bundle', () => {
    const [[waitId]] = resourcesOf(s, 'AWS::CloudFormation::WaitCondition');
    const generation = waitId.replace(/^ClusterReady/, '');
    assert.equal(s.json.Outputs?.NodeGeneration.Value, generation);
    for (const [, r] of resourcesOf(s, 'AWS::EC2::Instance')) {
      const ud = JSON.stringify(r.Properties.UserData);
      assert.match(ud, /Fn::Base64/);
      assert.ok(ud.includes(`{"Ref":"ReadinessHandle${generation}"}`));
      assert.match(ud, /ArtifactsBucket/);
      assert.ok(ud.includes("SERVE_BUNDLE_PARAMETER='/p5-ray/P5RayKvCluster/serve-bundle'"));
      assert.ok(!ud.includes(s.json.Resources[resourcesOf(s, 'AWS::SSM::Parameter')[0][0]].Properties.Value['Fn::Sub']), 'not the bundle URL');
    }
    s.template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/p5-ray/P5RayKvCluster/serve-bundle', Type: 'String',
      Value: { 'Fn::Sub': Match.stringLikeRegexp('^s3://cdk-hnb659fds-assets-\\$\\{AWS::AccountId\\}-us-east-1/[0-9a-f]{64}\\.zip$') },
    });
  });

  it('tags every instance, volume and interface for cost allocation', () => {
    for (const [, lt] of resourcesOf(s, 'AWS::EC2::LaunchTemplate')) {
      const specs = lt.Properties.LaunchTemplateData.TagSpecifications;
      assert.deepEqual(specs.map((t: any) => t.ResourceType).sort(), ['instance', 'network-interface', 'volume']);
      for (const t of specs) assert.ok(t.Tags.some((tag: any) => tag.Key === COST_TAG_KEY && tag.Value === 'P5RayKvCluster'));
    }
    for (const [, r] of resourcesOf(s, 'AWS::EC2::Instance')) {
      assert.ok(r.Properties.Tags.some((tag: any) => tag.Key === COST_TAG_KEY));
    }
  });

  it('outputs what a user needs to connect', () => {
    const outputs = s.json.Outputs ?? {};
    for (const key of ['GpuInstanceIds', 'HeadInstanceId', 'HeadShellCommand', 'DashboardPortForwardCommand', 'ServePortForwardCommand', 'GrafanaPortForwardCommand', 'PrometheusPortForwardCommand', 'ArtifactsBucketName', 'BootstrapLogsCommand']) {
      assert.ok(key in outputs, `output ${key}`);
    }
    assert.match(JSON.stringify(outputs.DashboardPortForwardCommand.Value), /AWS-StartPortForwardingSession.*8265/);
    assert.match(JSON.stringify(outputs.ServePortForwardCommand.Value), /8000/);
    assert.match(JSON.stringify(outputs.GrafanaPortForwardCommand.Value), /AWS-StartPortForwardingSession.*3000/);
    assert.match(JSON.stringify(outputs.PrometheusPortForwardCommand.Value), /AWS-StartPortForwardingSession.*9090/);
  });
});

describe('non-default stack: 3x p5en.48xlarge, head on the first GPU node', () => {
  let s: Synthesized;
  before(async () => { s = await synth({ gpuInstanceType: 'p5en.48xlarge', gpuNodes: '3', headInstanceType: 'none' }); });

  it('launches three p5en nodes with 16 EFA devices each and no separate head', () => {
    const instances = resourcesOf(s, 'AWS::EC2::Instance').map(([, r]) => r);
    assert.equal(instances.length, 3);
    for (const r of instances) {
      const lt = launchTemplateOf(s, r);
      assert.equal(lt.InstanceType, 'p5en.48xlarge');
      assert.equal(lt.NetworkInterfaces.filter((i: any) => i.InterfaceType === 'efa-only').length, 16);
    }
    s.template.resourceCountIs('AWS::EC2::LaunchTemplate', 1);
  });

  it('waits for three signals and gives the GPU role the head\'s bucket access', () => {
    const [[, wc]] = resourcesOf(s, 'AWS::CloudFormation::WaitCondition');
    assert.equal(wc.Properties.Count, 3);
    const [[, policy]] = resourcesOf(s, 'AWS::IAM::Policy').filter(([id]) => /GpuNodeRole/.test(id));
    const actions = policy.Properties.PolicyDocument.Statement.flatMap((st: any) => [st.Action].flat());
    assert.ok(actions.includes('s3:PutObject'));
  });
});

describe('capacity options', () => {
  it('launches into a Capacity Block without a placement group', async () => {
    const s = await synth({ capacityReservationId: 'cr-0123456789abcdef0', capacityBlock: 'true' });
    s.template.resourceCountIs('AWS::EC2::PlacementGroup', 0);
    const lt = launchTemplateOf(s, gpuInstances(s)[0]);
    assert.deepEqual(lt.InstanceMarketOptions, { MarketType: 'capacity-block' });
    assert.deepEqual(lt.CapacityReservationSpecification, { CapacityReservationTarget: { CapacityReservationId: 'cr-0123456789abcdef0' } });
    const head = resourcesOf(s, 'AWS::EC2::Instance').map(([, r]) => launchTemplateOf(s, r)).find((t) => t.InstanceType.startsWith('m7i'));
    assert.equal(head.InstanceMarketOptions, undefined, 'the CPU head is not part of the block');
  });

  it('targets an On-Demand Capacity Reservation and keeps the placement group', async () => {
    const s = await synth({ capacityReservationId: 'cr-0123456789abcdef0' });
    s.template.resourceCountIs('AWS::EC2::PlacementGroup', 1);
    const lt = launchTemplateOf(s, gpuInstances(s)[0]);
    assert.equal(lt.InstanceMarketOptions, undefined);
    assert.equal(lt.CapacityReservationSpecification.CapacityReservationTarget.CapacityReservationId, 'cr-0123456789abcdef0');
    // The reservation bills whether the nodes run or not: the cost review must not promise savings from a stop.
    const report = JSON.parse(readFileSync(join(s.outdir, 'cost-report.json'), 'utf8'));
    const gpuLines = report.lines.filter((l: any) => /p5\.48xlarge in On-Demand Capacity Reservation cr-0123456789abcdef0/.test(l.description));
    assert.equal(gpuLines.length, 2);
    for (const l of gpuLines) assert.equal(l.stopsWithInstances, false);
    assert.ok(report.spendGuard.hourlyAfterStopUsd > 110, `after the stop the reservation still bills: ${report.spendGuard.hourlyAfterStopUsd}`);
    assert.ok(report.warnings.some((w: string) => /cancel-capacity-reservation/.test(w)));
  });
});

describe('an existing placement group', () => {
  it('launches the GPU nodes into it and creates none (an ODCR made in a placement group serves only that group)', async () => {
    const s = await synth({ capacityReservationId: 'cr-0123456789abcdef0', placementGroupName: 'odcr-pg' }, {}, { cfnValidation: false });
    s.template.resourceCountIs('AWS::EC2::PlacementGroup', 0);
    for (const g of gpuInstances(s)) assert.equal(g.Properties.PlacementGroupName, 'odcr-pg');
  });
});

describe('existing VPC and a gated model', () => {
  it('uses the given subnet, creates no VPC, and lets the nodes read the token secret', async () => {
    const s = await synth({ vpcId: 'vpc-0123456789abcdef0', subnetId: 'subnet-0123456789abcdef0', hfTokenSecretName: 'hf/token' });
    s.template.resourceCountIs('AWS::EC2::VPC', 0);
    s.template.resourceCountIs('AWS::EC2::NatGateway', 0);
    for (const r of gpuInstances(s)) {
      for (const i of launchTemplateOf(s, r).NetworkInterfaces) assert.equal(i.SubnetId, 'subnet-0123456789abcdef0');
    }
    const statements = resourcesOf(s, 'AWS::IAM::Policy').filter(([id]) => /NodeRole/.test(id))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
    const secret = statements.find((st: any) => st.Action === 'secretsmanager:GetSecretValue');
    assert.ok(secret);
    assert.match(JSON.stringify(secret.Resource), /secret:hf\/token-\?\?\?\?\?\?"\]\]\}$/);
  });
});
