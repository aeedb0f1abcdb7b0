import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as vm from 'node:vm';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SpendGuard, SpendGuardProps, spendGuardWarnings } from '../../lib/guard/spend-guard';
import { LocalEndpoint, startLocalEndpoint } from '../helpers/local-endpoint';

interface GuardStack { stack: Stack; guard: SpendGuard; template: Template; json: any }

/** Two GPU nodes from a launch template, one unrelated instance, and the guard, as the real stack wires them. */
function guardStack(props: Omit<SpendGuardProps, 'gpuInstances' | 'costTagKey' | 'costTagValue'>): GuardStack {
  const app = new App({ builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'GuardTest', { env: { region: 'us-east-1', account: '111122223333' } });
  const lt = new ec2.CfnLaunchTemplate(stack, 'GpuLaunchTemplate', { launchTemplateData: { instanceType: 'p5.48xlarge' } });
  const gpus = [0, 1].map((i) => new ec2.CfnInstance(stack, `GpuNode${i}`, {
    launchTemplate: { launchTemplateId: lt.ref, version: lt.attrLatestVersionNumber },
  }));
  new ec2.CfnInstance(stack, 'HeadNode', { instanceType: 'm7i.2xlarge' });
  const guard = new SpendGuard(stack, 'SpendGuard', { gpuInstances: gpus, costTagKey: 'Project', costTagValue: 'P5RayKvCluster', ...props });
  const template = Template.fromStack(stack);
  return { stack, guard, template, json: template.toJSON() };
}

const instanceArn = (logicalId: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:us-east-1:111122223333:instance/', { Ref: logicalId }]],
});

describe('SpendGuard with maxHours = 8 and a budget e-mail', () => {
  let g: GuardStack;
  before(() => { g = guardStack({ maxHours: 8, budgetEmail: 'ops@example.com' }); });

  it('schedules a one-time ec2:stopInstances call on exactly the GPU instances, at a deploy-time expression', () => {
    g.template.resourceCountIs('AWS::Scheduler::Schedule', 1);
    g.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SpendGuardStopTime'), 'ScheduleExpression'] },
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':scheduler:::aws-sdk:ec2:stopInstances']] },
        Input: { 'Fn::Join': ['', ['{"InstanceIds":["', { Ref: 'GpuNode0' }, '","', { Ref: 'GpuNode1' }, '"]}']] },
      },
    });
  });

  it('feeds the instance ids and maxHours into the stop-time custom resource, so it runs after them and on replacement', () => {
    g.template.hasResourceProperties('Custom::SpendGuardStopTime', {
      InstanceIds: [{ Ref: 'GpuNode0' }, { Ref: 'GpuNode1' }],
      MaxHours: '8',
    });
  });

  it('lets the scheduler role stop only those two instance ARNs: no wildcard, no head node', () => {
    const policies = Object.values(g.json.Resources).filter((r: any) => r.Type === 'AWS::IAM::Policy') as any[];
    const stopStatements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((s: any) => [s.Action].flat().includes('ec2:StopInstances'));
    assert.equal(stopStatements.length, 1);
    assert.deepEqual(stopStatements[0].Resource, [instanceArn('GpuNode0'), instanceArn('GpuNode1')]);
    assert.ok(!JSON.stringify(policies).includes('"*"'), 'no policy grants on *');
    g.template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': '111122223333' } },
      })] },
    });
  });

  it('puts the schedule name, the stop time and the status in the stack outputs', () => {
    g.template.hasOutput('SpendGuardScheduleName', { Value: { Ref: Match.stringLikeRegexp('^SpendGuardStopSchedule') } });
    g.template.hasOutput('SpendGuardStopTime', { Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SpendGuardStopTime'), 'StopTimeIso'] } });
    g.template.hasOutput('SpendGuardStatus', { Value: 'enabled: stops 2 GPU node(s) 8 h after they start (re-armed at every start)' });
  });

  it('adds a monthly COST budget filtered on the user cost-allocation tag, e-mailing the address', () => {
    g.template.hasResourceProperties('AWS::Budgets::Budget', {
      Budget: { BudgetType: 'COST', TimeUnit: 'MONTHLY', CostFilters: { TagKeyValue: ['user:Project$P5RayKvCluster'] } },
      NotificationsWithSubscribers: Match.arrayWith([Match.objectLike({
        Subscribers: [{ SubscriptionType: 'EMAIL', Address: 'ops@example.com' }],
      })]),
    });
  });

  it('passes the AwsSolutions cdk-nag pack on its own resources', () => {
    const report = new AwsSolutionsChecks().validateScope(g.guard);
    const findings = report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.resourceLogicalId}`));
    assert.deepEqual(findings, []);
  });
});

describe('SpendGuard with maxHours = 0 and no budget e-mail', () => {
  let g: GuardStack;
  before(() => { g = guardStack({ maxHours: 0 }); });

  it('creates no schedule, no custom resource, no budget, and says it is disabled', () => {
    g.template.resourceCountIs('AWS::Scheduler::Schedule', 0);
    g.template.resourceCountIs('Custom::SpendGuardStopTime', 0);
    g.template.resourceCountIs('AWS::Budgets::Budget', 0);
    assert.equal(g.guard.enabled, false);
    g.template.hasOutput('SpendGuardStatus', { Value: Match.stringLikeRegexp('^DISABLED') });
    assert.equal(g.json.Outputs.SpendGuardStopTime, undefined);
  });

  it('gives the app a loud warning to print, with this stack\'s own nodes and the cost review\'s hourly figure', () => {
    const cluster = { capacityBlock: false, gpuNodes: 3, gpuInstanceType: 'p4d.24xlarge' };
    const warnings = spendGuardWarnings({ ...cluster, maxHours: 0 }, 'p5-ray:cluster', '$67.12/h');
    assert.match(warnings[0], /SPEND GUARD OFF/);
    assert.match(warnings[0], /the 3 p4d\.24xlarge GPU nodes/);
    assert.match(warnings[0], /costs \$67\.12\/h \(cost review above\)/);
    assert.doesNotMatch(warnings[0], /\$110|p5\.48xlarge/, 'no figure of the default cluster');
    assert.equal(spendGuardWarnings({ ...cluster, maxHours: 8 }, 'p5-ray:cluster', '$67.12/h').some((w) => w.includes('SPEND GUARD OFF')), false);
  });
});

describe('SpendGuard props validation', () => {
  const stack = () => new Stack(new App({ builtinCloudFormationValidation: false }), 'V');
  it('rejects maxHours outside 0–720 and a guard with no instances, naming the prop', () => {
    assert.throws(() => new SpendGuard(stack(), 'G', { gpuInstances: [], maxHours: -1, costTagKey: 'k', costTagValue: 'v' }), /maxHours must be a number from 0/);
    assert.throws(() => new SpendGuard(stack(), 'G', { gpuInstances: [], maxHours: 8, costTagKey: 'k', costTagValue: 'v' }), /gpuInstances must list at least one/);
    assert.throws(() => new SpendGuard(stack(), 'G', { gpuInstances: [], maxHours: 0, costTagKey: 'aws:x', costTagValue: 'v' }), /user-defined tag/);
  });
});

/**
 * The deployed Lambda source, taken from the synthesized template, run in a vm against a local stand-in for
 * CloudFormation's pre-signed response URL.
 */
describe('the stop-time custom resource handler (inline code from the template)', () => {
  let server: LocalEndpoint;
  let responseUrl = '';
  let responses: any[] = [];
  let handler: (event: any) => Promise<void>;

  before(async () => {
    const g = guardStack({ maxHours: 8 });
    const fn = Object.values(g.json.Resources).find((r: any) => r.Type === 'AWS::Lambda::Function') as any;
    assert.equal(fn.Properties.Runtime, 'nodejs24.x');
    const mod = { exports: {} as any };
    vm.runInNewContext(`(function (exports, require, module) {\n${fn.Properties.Code.ZipFile}\n})`, {
      console: { log: () => undefined }, URL, Buffer, Date,
    })(mod.exports, require, mod);
    handler = mod.exports.handler;

    server = await startLocalEndpoint((req, body) => {
      responses.push({ method: req.method, body: JSON.parse(body) });
      return {};
    });
    responseUrl = `${server.url}/response?X-Amz-Signature=fake`;
  });
  after(() => server.close());

  const event = (RequestType: string, MaxHours: string) => ({
    RequestType, ResponseURL: responseUrl, StackId: 'arn:aws:cloudformation:us-east-1:111122223333:stack/x/y',
    RequestId: 'r-1', LogicalResourceId: 'SpendGuardStopTime', ResourceType: 'Custom::SpendGuardStopTime',
    ResourceProperties: { ServiceToken: 'arn', InstanceIds: ['i-0123456789abcdef0'], MaxHours },
  });

  it('answers SUCCESS with at(now + maxHours) in UTC, rounded up to the minute, and the same time in ISO', async () => {
    responses = [];
    const before = Date.now();
    await handler(event('Create', '8'));
    assert.equal(responses.length, 1);
    const { method, body } = responses[0];
    assert.equal(method, 'PUT');
    assert.equal(body.Status, 'SUCCESS');
    assert.equal(body.RequestId, 'r-1');
    const match = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00)\)$/.exec(body.Data.ScheduleExpression);
    assert.ok(match, body.Data.ScheduleExpression);
    assert.equal(body.Data.StopTimeIso, `${match[1]}Z`);
    const stop = Date.parse(body.Data.StopTimeIso);
    assert.ok(stop >= before + 8 * 3600_000 && stop <= Date.now() + 8 * 3600_000 + 60_000, 'stop is 8 h (+ < 1 min) from now');
  });

  it('answers FAILED instead of hanging on a bad MaxHours, and SUCCESS on Delete', async () => {
    responses = [];
    await handler(event('Update', 'eight'));
    assert.equal(responses[0].body.Status, 'FAILED');
    assert.match(responses[0].body.Reason, /MaxHours must be a positive number/);
    await handler(event('Delete', '8'));
    assert.equal(responses[1].body.Status, 'SUCCESS');
  });
});
