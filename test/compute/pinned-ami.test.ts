import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import * as vm from 'node:vm';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PinnedAmi } from '../../lib/compute/pinned-ami';
import { DEFAULT_AMI_PARAMETER } from '../../lib/catalog/software';
import { LocalEndpoint, startLocalEndpoint } from '../helpers/local-endpoint';

function amiStack(parameterName: string = DEFAULT_AMI_PARAMETER, generation = 1) {
  const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'AmiTest', { env: { region: 'us-east-1', account: '111122223333' } });
  const ami = new PinnedAmi(stack, 'Ami', { parameterName, generation });
  const template = Template.fromStack(stack);
  return { ami, template, json: template.toJSON() as { Resources: Record<string, any> } };
}

/** The resource whose logical id starts with `prefix` (of `type`, when given) and its id. */
function byPrefix(json: { Resources: Record<string, any> }, prefix: string, type?: string): any {
  const found = Object.entries(json.Resources).find(([id, r]) => id.startsWith(prefix) && (type === undefined || r.Type === type));
  assert.ok(found, `${prefix} ${type ?? ''}`);
  return { ...found[1], id: found[0] };
}

describe('PinnedAmi', () => {
  const { ami, template, json } = amiStack();

  it('asks its function once for the parameter and generation; the image id is the custom resource\'s attribute', () => {
    template.hasResourceProperties('Custom::PinnedAmi', { ParameterName: DEFAULT_AMI_PARAMETER, Generation: '1' });
    const resource = byPrefix(json, 'Ami', 'Custom::PinnedAmi');
    assert.deepEqual(resource.Properties.ServiceToken, { 'Fn::GetAtt': [byPrefix(json, 'AmiFunction', 'AWS::Lambda::Function').id, 'Arn'] });
    assert.deepEqual(Stack.of(ami).resolve(ami.imageId), { 'Fn::GetAtt': [resource.id, 'ImageId'] });
  });

  it('may read only that parameter (an AWS public one has no account in its ARN) and write only its own log group', () => {
    const statements = byPrefix(json, 'AmiFunctionRoleDefaultPolicy').Properties.PolicyDocument.Statement;
    const ssm = statements.find((s: any) => s.Action === 'ssm:GetParameter');
    assert.deepEqual(ssm.Resource, { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:ssm:us-east-1::parameter${DEFAULT_AMI_PARAMETER}`]] });
    const logs = statements.find((s: any) => [s.Action].flat().includes('logs:PutLogEvents'));
    assert.match(logs.Resource['Fn::GetAtt'][0], /^AmiLogs/);
    assert.ok(!JSON.stringify(statements).includes('logs:CreateLogGroup'), 'a deleted log group stays deleted');
    const own = amiStack('/ml-platform/p5-ami').json;
    assert.deepEqual(byPrefix(own, 'AmiFunctionRoleDefaultPolicy').Properties.PolicyDocument.Statement
      .find((s: any) => s.Action === 'ssm:GetParameter').Resource,
    { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ssm:us-east-1:111122223333:parameter/ml-platform/p5-ami']] });
  });

  it('passes the AwsSolutions cdk-nag pack', () => {
    const report = new AwsSolutionsChecks().validateScope(ami);
    assert.deepEqual(report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.resourceLogicalId}`)), []);
  });
});

/**
 * The function's source from the template, run in a vm with the real AWS SDK for JavaScript v3 (the Lambda runtime's)
 * against a local stand-in for SSM (JSON 1.1, AmazonSSM.GetParameter) and for CloudFormation's response URL.
 */
describe('the PinnedAmi function (inline code from the template, real SDK)', () => {
  let server: LocalEndpoint;
  let handler: (event: any) => Promise<void>;
  let ssmCalls: Array<{ target: string; auth: string; body: any }> = [];
  let responses: any[] = [];
  let parameterValue: string | undefined = 'ami-0123456789abcdef0';
  const saved: Record<string, string | undefined> = {};

  before(async () => {
    const fn = byPrefix(amiStack().json, 'AmiFunction', 'AWS::Lambda::Function');
    assert.equal(fn.Properties.Runtime, 'nodejs24.x');
    server = await startLocalEndpoint((req, body) => {
      if (req.url?.startsWith('/response')) {
        responses.push(JSON.parse(body));
        return {};
      }
      ssmCalls.push({ target: String(req.headers['x-amz-target']), auth: String(req.headers.authorization), body: JSON.parse(body) });
      if (parameterValue === undefined) {
        return { status: 400, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify({ __type: 'ParameterNotFound', message: '' }) };
      }
      return {
        headers: { 'content-type': 'application/x-amz-json-1.1' },
        body: JSON.stringify({ Parameter: { Name: DEFAULT_AMI_PARAMETER, Type: 'String', Value: parameterValue, Version: 42, DataType: 'aws:ec2:image' } }),
      };
    });
    const env = { AWS_ENDPOINT_URL: server.url, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIDFAKE', AWS_SECRET_ACCESS_KEY: 'fake' };
    for (const [k, v] of Object.entries(env)) { saved[k] = process.env[k]; process.env[k] = v; }
    const mod = { exports: {} as any };
    vm.runInNewContext(`(function (exports, require, module) {\n${fn.Properties.Code.ZipFile}\n})`, {
      console: { log: () => undefined }, process, URL, Buffer,
    })(mod.exports, require, mod);
    handler = mod.exports.handler;
  });
  after(async () => {
    for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
    await server.close();
  });

  const event = (RequestType: string, Generation = '1', PhysicalResourceId?: string) => ({
    RequestType, ResponseURL: `${server.url}/response?X-Amz-Signature=fake`, StackId: 'arn:aws:cloudformation:us-east-1:111122223333:stack/x/y',
    RequestId: 'r-1', LogicalResourceId: 'Ami', ResourceType: 'Custom::PinnedAmi', PhysicalResourceId,
    ResourceProperties: { ServiceToken: 'arn', ParameterName: DEFAULT_AMI_PARAMETER, Generation },
  });

  it('on Create, answers the image id the parameter holds, with a physical id naming parameter and generation', async () => {
    ssmCalls = []; responses = []; parameterValue = 'ami-0123456789abcdef0';
    await handler(event('Create'));
    assert.equal(ssmCalls.length, 1);
    assert.equal(ssmCalls[0].target, 'AmazonSSM.GetParameter');
    assert.deepEqual(ssmCalls[0].body, { Name: DEFAULT_AMI_PARAMETER });
    assert.match(ssmCalls[0].auth, /\/us-east-1\/ssm\/aws4_request/);
    assert.equal(responses[0].Status, 'SUCCESS');
    assert.deepEqual(responses[0].Data, { ImageId: 'ami-0123456789abcdef0', ParameterVersion: '42' });
    assert.equal(responses[0].PhysicalResourceId, `${DEFAULT_AMI_PARAMETER}@1`);
  });

  it('on Update (a new generation), resolves again and answers a new physical id: a replacement, so a rollback keeps the old image', async () => {
    ssmCalls = []; responses = []; parameterValue = 'ami-0fedcba9876543210';
    await handler(event('Update', '2', `${DEFAULT_AMI_PARAMETER}@1`));
    assert.equal(responses[0].Data.ImageId, 'ami-0fedcba9876543210');
    assert.equal(responses[0].PhysicalResourceId, `${DEFAULT_AMI_PARAMETER}@2`);
  });

  it('answers FAILED, naming the parameter, when it is missing or holds no AMI id; Delete asks nothing', async () => {
    ssmCalls = []; responses = []; parameterValue = undefined;
    await handler(event('Create'));
    assert.equal(responses[0].Status, 'FAILED');
    assert.match(responses[0].Reason, new RegExp(`resolving the AMI from ${DEFAULT_AMI_PARAMETER} failed: ParameterNotFound`));
    parameterValue = 'not-an-ami';
    await handler(event('Create'));
    assert.match(responses[1].Reason, /holds "not-an-ami", not an AMI id/);
    ssmCalls = [];
    await handler(event('Delete', '1', `${DEFAULT_AMI_PARAMETER}@1`));
    assert.equal(responses[2].Status, 'SUCCESS');
    assert.equal(responses[2].PhysicalResourceId, `${DEFAULT_AMI_PARAMETER}@1`);
    assert.equal(ssmCalls.length, 0);
  });
});
