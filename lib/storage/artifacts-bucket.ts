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
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
      lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    });
    this.keepDeleteLogsInStack();
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'Holds only this cluster\'s configs and benchmark results and lives as long as the stack; access ' +
        'logging would need a second bucket that must outlive it, contradicting "destroy leaves nothing behind"',
    });
  }

  /**
   * CDK's function that empties the bucket on `cdk destroy` would log into a group Lambda creates on the fly, which
   * outlives the stack. Declaring that group in the stack, and making the emptying wait for it, means it is
   * deleted after the function's last run.
   */
  private keepDeleteLogsInStack(): void {
    const provider = Stack.of(this).node.tryFindChild('Custom::S3AutoDeleteObjectsCustomResourceProvider');
    const handler = provider?.node.tryFindChild('Handler') as CfnResource | undefined;
    const emptying = this.bucket.node.tryFindChild('AutoDeleteObjectsCustomResource');
    if (!handler || !emptying) throw new Error('autoDeleteObjects created no provider function: aws-cdk-lib changed');
    const logGroup = new logs.LogGroup(this, 'EmptyOnDeleteLogs', {
      logGroupName: `/aws/lambda/${handler.ref}`,
      retention: logs.RetentionDays.ONE_WEEK,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    emptying.node.addDependency(logGroup);
  }
}
