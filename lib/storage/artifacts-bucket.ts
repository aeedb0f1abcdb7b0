import { Duration, RemovalPolicy, Stack, Validations, aws_s3 as s3, aws_s3_deployment as s3deploy } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { BUCKET_PREFIXES } from '../catalog/paths';
import { bucketObjectsFinding, managedPolicyFinding, wildcardActionFinding } from '../nag/finding-ids';

export interface BundleFile {
  /** Path inside the bundle, e.g. `pd_nixl.yaml`. */
  readonly path: string;
  readonly content: string;
}

export interface ArtifactsBucketProps {
  /** The serve bundle, shipped to `serve/` in the bucket on every deploy. */
  readonly serveFiles: readonly BundleFile[];
}

/**
 * The stack's own bucket: serve configs and scripts in, cluster rendezvous and benchmark results out. Encrypted,
 * TLS-only, never public, and emptied and deleted by `cdk destroy` (results worth keeping are copied out by the
 * user; nothing here is retained behind their back).
 */
export class ArtifactsBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly serveDeployment: s3deploy.BucketDeployment;

  constructor(scope: Construct, id: string, props: ArtifactsBucketProps) {
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
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'Holds only this cluster\'s configs and benchmark results and lives as long as the stack; access ' +
        'logging would need a second bucket that must outlive it, contradicting "destroy leaves nothing behind"',
    });

    this.serveDeployment = new s3deploy.BucketDeployment(this, 'ServeBundle', {
      destinationBucket: this.bucket,
      destinationKeyPrefix: BUCKET_PREFIXES.serve,
      sources: props.serveFiles.map((f) => s3deploy.Source.data(f.path, f.content)),
      prune: true,
      retainOnDelete: false,
      memoryLimit: 256,
    });
    this.acknowledgeDeploymentFunction();
  }

  /** The findings on CDK's own BucketDeployment function (a stack-level singleton), each with its reason. */
  private acknowledgeDeploymentFunction(): void {
    const stack = Stack.of(this);
    const fn = stack.node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
    if (!fn) throw new Error('BucketDeployment created no Custom::CDKBucketDeployment function: aws-cdk-lib changed');
    const copyOnly = 'CDK\'s BucketDeployment function copies the serve bundle from the CDK asset bucket into this ' +
      'stack\'s bucket and prunes stale files; CDK generates its policy with these wildcards';
    const acks: Array<[string, string]> = [
      [managedPolicyFinding('service-role/AWSLambdaBasicExecutionRole'), 'CloudWatch Logs for CDK\'s BucketDeployment function, nothing else'],
      ...['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*'].map((a): [string, string] => [wildcardActionFinding(a), copyOnly]),
      [bucketObjectsFinding(this.bucket, '*'), `${copyOnly}; it writes only under ${BUCKET_PREFIXES.serve}`],
      [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-${stack.region}/*]`,
        'Read access to the CDK bootstrap asset bucket, where the bundle is staged by `cdk deploy`'],
      ['AwsSolutions-L1', 'The runtime of CDK\'s own BucketDeployment function is chosen by aws-cdk-lib (pinned 2.276.0)'],
    ];
    for (const [id, reason] of acks) Validations.of(fn).acknowledge({ id, reason });
  }
}
