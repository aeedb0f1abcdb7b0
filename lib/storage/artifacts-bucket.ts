import { CfnResource, Duration, RemovalPolicy, Stack, Validations, aws_logs as logs, aws_s3 as s3 } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/**
 * The stack's own bucket: the head node's copy of the serve bundle, the cluster rendezvous, and benchmark results.
 * Encrypted, TLS-only, never public, and emptied and deleted by `cdk destroy` (results worth keeping are copied out
 * by the user; nothing here is retained behind their back).
 */
export class ArtifactsBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.bucket = disposableBucket(this, {
      s1Reason: 'Holds only this cluster\'s configs and benchmark results and lives as long as the stack; access ' +
        'logging would need a second bucket that must outlive it, contradicting "destroy leaves nothing behind"',
    });
  }
}

export interface DisposableBucketProps {
  readonly bucketName?: string;
  /** Why the bucket has no access logging (cdk-nag AwsSolutions-S1), in its owner's words. */
  readonly s1Reason: string;
}

/**
 * A private bucket that `cdk destroy` empties and deletes with everything it made: encrypted, TLS-only, never public,
 * incomplete multipart uploads (a node stopped mid-upload) aborted after a day. Its emptying function's log group is
 * declared in the stack, so it goes with it instead of outliving it. Creates `Bucket` and `EmptyOnDeleteLogs` in
 * `scope` (their logical IDs are the golden ones of the artifacts bucket and the deploy cache).
 */
export function disposableBucket(scope: Construct, props: DisposableBucketProps): s3.Bucket {
  const bucket = new s3.Bucket(scope, 'Bucket', {
    bucketName: props.bucketName,
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    removalPolicy: RemovalPolicy.DESTROY,
    autoDeleteObjects: true,
    lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(1) }],
  });
  const provider = Stack.of(scope).node.tryFindChild('Custom::S3AutoDeleteObjectsCustomResourceProvider');
  const handler = provider?.node.tryFindChild('Handler') as CfnResource | undefined;
  const role = provider?.node.tryFindChild('Role') as CfnResource | undefined;
  const emptying = bucket.node.tryFindChild('AutoDeleteObjectsCustomResource');
  if (!handler || !role || !emptying) throw new Error('autoDeleteObjects created no provider function: aws-cdk-lib changed');
  const logGroup = new logs.LogGroup(scope, 'EmptyOnDeleteLogs', {
    logGroupName: `/aws/lambda/${handler.ref}`,
    retention: logs.RetentionDays.ONE_WEEK,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  emptying.node.addDependency(logGroup);
  // The emptying function runs while `cdk destroy` deletes the stack, and Lambda delivers its last log lines after
  // the stack deleted the group: with AWSLambdaBasicExecutionRole's logs:CreateLogGroup they bring it back, with
  // no retention (aws/aws-cdk#31487). An explicit Deny on the function's role keeps it gone.
  role.addPropertyOverride('Policies', [{
    PolicyName: 'NoLogGroupAfterStackDeletion',
    PolicyDocument: {
      Version: '2012-10-17',
      Statement: [{ Sid: 'LogGroupIsTheStacks', Effect: 'Deny', Action: 'logs:CreateLogGroup', Resource: '*' }],
    },
  }]);
  Validations.of(bucket).acknowledge({ id: 'AwsSolutions-S1', reason: props.s1Reason });
  return bucket;
}
