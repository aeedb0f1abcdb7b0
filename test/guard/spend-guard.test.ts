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

/** A guard function of the template, by the start of its logical id. */
function inlineFunction(g: GuardStack, prefix: string): any {
  const found = Object.entries(g.json.Resources).find(([id, r]: [string, any]) => id.startsWith(prefix) && r.Type === 'AWS::Lambda::Function');
  assert.ok(found, prefix);
  return found[1];
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

  it('re-arms at every start: an EventBridge rule on EC2 "running" for exactly the GPU instances invokes the re-arm function', () => {
    const rules = Object.entries(g.json.Resources).filter(([, r]: [string, any]) => r.Type === 'AWS::Events::Rule') as Array<[string, any]>;
    assert.equal(rules.length, 1);
    const [ruleId, rule] = rules[0];
    assert.deepEqual(rule.Properties.EventPattern, {
      'source': ['aws.ec2'],
      'detail-type': ['EC2 Instance State-change Notification'],
      'detail': { 'state': ['running'], 'instance-id': [{ Ref: 'GpuNode0' }, { Ref: 'GpuNode1' }] },
    });
    assert.equal(rule.Properties.EventBusName, undefined, 'the default bus, where EC2 sends its events');
    const [target] = rule.Properties.Targets;
    assert.match(target.Arn['Fn::GetAtt'][0], /^SpendGuardRearmFunction/);
    assert.deepEqual(target.RetryPolicy, { MaximumEventAgeInSeconds: 7200, MaximumRetryAttempts: 8 });
    g.template.hasResourceProperties('AWS::Lambda::Permission', {
      Principal: 'events.amazonaws.com', SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
    });
    g.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { SCHEDULE_NAME: { Ref: Match.stringLikeRegexp('^SpendGuardStopSchedule') }, SCHEDULE_GROUP: 'default', MAX_HOURS: '8' } },
    });
  });

  it('lets the re-arm function touch only the stop schedule, pass only the scheduler role, and write only the guard\'s logs', () => {
    const role = Object.entries(g.json.Resources).find(([id]) => id.startsWith('SpendGuardRearmFunctionRoleDefaultPolicy')) as [string, any];
    const statements = role[1].Properties.PolicyDocument.Statement;
    const byAction = (action: string) => statements.filter((s: any) => [s.Action].flat().includes(action));
    assert.deepEqual(byAction('scheduler:UpdateSchedule').map((s: any) => s.Resource),
      [{ 'Fn::GetAtt': [Object.keys(g.json.Resources).find((id) => id.startsWith('SpendGuardStopSchedule') && !id.includes('Role')), 'Arn'] }]);
    const pass = byAction('iam:PassRole');
    assert.equal(pass.length, 1);
    assert.match(pass[0].Resource['Fn::GetAtt'][0], /^SpendGuardStopSchedulerRole/);
    assert.deepEqual(pass[0].Condition, { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } });
    assert.match(byAction('logs:PutLogEvents')[0].Resource['Fn::GetAtt'][0], /^SpendGuardStopTimeLogs/);
    assert.ok(!statements.some((s: any) => [s.Action].flat().includes('logs:CreateLogGroup')), 'a deleted log group stays deleted');
    assert.ok(!JSON.stringify(statements).includes('"*"'));
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
    const fn = inlineFunction(g, 'SpendGuardStopTimeFunction');
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

/**
 * The re-arm function's source from the template, run in a vm with the real AWS SDK for JavaScript v3 (the Lambda
 * runtime's) against a local stand-in for EventBridge Scheduler's REST API (GetSchedule, UpdateSchedule).
 */
describe('the re-arm function (inline code from the template, real SDK)', () => {
  let server: LocalEndpoint;
  let requests: Array<{ method: string; path: string; auth: string; body: any }> = [];
  let handler: (event: any) => Promise<any>;
  let env: Record<string, string>;
  const saved: Record<string, string | undefined> = {};
  const current = {
    Arn: 'arn:aws:scheduler:us-east-1:111122223333:schedule/default/GuardTest-StopSchedule-1A2B3C',
    Name: 'GuardTest-StopSchedule-1A2B3C', GroupName: 'default', State: 'ENABLED',
    ScheduleExpression: 'at(2026-11-24T20:00:00)', ScheduleExpressionTimezone: 'UTC', ActionAfterCompletion: 'NONE',
    Description: 'Stops the GPU nodes 8 h after they start (spend guard)', FlexibleTimeWindow: { Mode: 'OFF' },
    Target: {
      Arn: 'arn:aws:scheduler:::aws-sdk:ec2:stopInstances', RoleArn: 'arn:aws:iam::111122223333:role/GuardTest-StopSchedulerRole',
      Input: '{"InstanceIds":["i-0aaaaaaaaaaaaaaa0","i-0aaaaaaaaaaaaaaa1"]}',
      RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 },
    },
    CreationDate: 1764000000, LastModificationDate: 1764000000,
  };

  before(async () => {
    const g = guardStack({ maxHours: 8 });
    const fn = inlineFunction(g, 'SpendGuardRearmFunction');
    assert.equal(fn.Properties.Runtime, 'nodejs24.x');
    env = { ...fn.Properties.Environment.Variables, SCHEDULE_NAME: current.Name };
    server = await startLocalEndpoint((req, body) => {
      const url = new URL(req.url ?? '/', 'http://x');
      requests.push({ method: req.method ?? '', path: `${url.pathname}${url.search}`, auth: String(req.headers.authorization), body: body ? JSON.parse(body) : undefined });
      if (req.method === 'GET') return { headers: { 'content-type': 'application/json' }, body: JSON.stringify(current) };
      return { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ScheduleArn: current.Arn }) };
    });
    const sdkEnv = { AWS_ENDPOINT_URL: server.url, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIDFAKE', AWS_SECRET_ACCESS_KEY: 'fake', ...env };
    for (const [k, v] of Object.entries(sdkEnv)) { saved[k] = process.env[k]; process.env[k] = v; }
    const mod = { exports: {} as any };
    vm.runInNewContext(`(function (exports, require, module) {\n${fn.Properties.Code.ZipFile}\n})`, {
      console: { log: () => undefined }, process, URL, Buffer, Date,
    })(mod.exports, require, mod);
    handler = mod.exports.handler;
  });
  after(async () => {
    for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
    await server.close();
  });

  const started = (state: string) => ({
    'version': '0', 'id': 'e-1', 'detail-type': 'EC2 Instance State-change Notification', 'source': 'aws.ec2',
    'account': '111122223333', 'time': '2026-11-25T09:00:30Z', 'region': 'us-east-1',
    'resources': ['arn:aws:ec2:us-east-1:111122223333:instance/i-0aaaaaaaaaaaaaaa1'],
    'detail': { 'instance-id': 'i-0aaaaaaaaaaaaaaa1', state },
  });

  it('moves the stop schedule to maxHours after the start, rounded up to the minute, keeping its target, role and input', async () => {
    requests = [];
    const out = await handler(started('running'));
    assert.deepEqual(requests.map((r) => `${r.method} ${r.path}`), [
      `GET /schedules/${current.Name}?groupName=default`, `PUT /schedules/${current.Name}`,
    ]);
    assert.ok(requests.every((r) => r.auth.includes('/us-east-1/scheduler/aws4_request')), 'signed for EventBridge Scheduler');
    const update = requests[1].body;
    assert.equal(update.ScheduleExpression, 'at(2026-11-25T17:01:00)');
    assert.equal(update.State, 'ENABLED');
    assert.equal(update.ScheduleExpressionTimezone, 'UTC');
    assert.deepEqual(update.Target, current.Target);
    assert.deepEqual(update.FlexibleTimeWindow, { Mode: 'OFF' });
    for (const key of ['GroupName', 'Description', 'ActionAfterCompletion'] as const) assert.equal(update[key], current[key], key);
    assert.equal(update.CreationDate, undefined, 'only fields UpdateSchedule takes');
    assert.equal(out.now, 'at(2026-11-25T17:01:00)');
    assert.equal(out.previous, current.ScheduleExpression);
  });

  it('ignores any state but running', async () => {
    requests = [];
    assert.equal((await handler(started('stopped'))).ignored, true);
    assert.equal(requests.length, 0);
  });
});
