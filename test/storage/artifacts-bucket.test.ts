import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ArtifactsBucket } from '../../lib/storage/artifacts-bucket';

describe('ArtifactsBucket', () => {
  const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'Store', { env: { region: 'us-east-1' } });
  new ArtifactsBucket(stack, 'Artifacts');
  const template = Template.fromStack(stack);

  it('is encrypted, private and TLS-only', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: Match.objectLike({ ServerSideEncryptionConfiguration: [Match.objectLike({ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } })] }),
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('is emptied and deleted with the stack, and so is the emptying function\'s log group', () => {
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 1);
    const groups = template.findResources('AWS::Logs::LogGroup');
    const emptyLogs = Object.values(groups).find((g) => JSON.stringify(g.Properties.LogGroupName).includes('/aws/lambda/'));
    assert.ok(emptyLogs, 'a declared /aws/lambda/<handler> log group');
    assert.equal(emptyLogs.DeletionPolicy, 'Delete');
    const emptying = Object.values(template.findResources('Custom::S3AutoDeleteObjects'))[0];
    const groupId = Object.entries(groups).find(([, g]) => g === emptyLogs)?.[0];
    assert.ok(emptying.DependsOn.includes(groupId), 'the emptying waits for its log group, so the group outlives its last run');
  });
});
