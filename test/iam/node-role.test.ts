import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { NodeRole } from '../../lib/iam/node-role';

describe('NodeRole', () => {
  const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'Roles', { env: { region: 'us-east-1' } });
  const bucket = new s3.Bucket(stack, 'Bucket');
  const logGroup = new logs.LogGroup(stack, 'Boot');
  new NodeRole(stack, 'Head', {
    purpose: 'Ray head', bucket, bootstrapLogGroup: logGroup, readPrefixes: ['cluster/'], writePrefixes: ['serve/', 'results/'],
    readObjectArns: ['arn:aws:s3:::assets/bundle.zip'], hfTokenSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:hf',
  });
  const template = Template.fromStack(stack);
  const statements: any[] = Object.values(template.findResources('AWS::IAM::Policy'))[0].Properties.PolicyDocument.Statement;
  const bySid = (sid: string) => statements.find((s) => s.Sid === sid);
  const bucketId = stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket);

  it('writes only under its write prefixes, reads only under its read prefixes', () => {
    assert.equal(bySid('WriteArtifacts').Action, 's3:PutObject');
    assert.deepEqual(bySid('WriteArtifacts').Resource.map((r: any) => r['Fn::Join'][1][1]), ['/serve/*', '/results/*']);
    assert.deepEqual(bySid('ReadArtifacts').Resource['Fn::Join'][1], [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/cluster/*']);
    assert.deepEqual(bySid('ListArtifacts').Condition, { StringLike: { 's3:prefix': ['cluster/*'] } });
  });

  it('logs only to the given log group, and reads the one asset object and the token secret', () => {
    assert.deepEqual(bySid('BootstrapLogs').Resource, { 'Fn::GetAtt': [stack.getLogicalId(logGroup.node.defaultChild as logs.CfnLogGroup), 'Arn'] });
    assert.equal(bySid('ReadServeBundleAsset').Resource, 'arn:aws:s3:::assets/bundle.zip');
    assert.equal(bySid('ReadHuggingFaceToken').Resource, 'arn:aws:secretsmanager:us-east-1:111122223333:secret:hf-??????');
  });

  it('has an instance profile and Session Manager access, and no wildcard resource', () => {
    template.resourceCountIs('AWS::IAM::InstanceProfile', 1);
    template.hasResourceProperties('AWS::IAM::Role', { ManagedPolicyArns: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonSSMManagedInstanceCore']] }] });
    assert.ok(statements.every((s) => s.Resource !== '*'));
  });
});
