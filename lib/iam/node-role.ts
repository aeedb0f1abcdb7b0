import { Validations, aws_iam as iam, aws_logs as logs, aws_s3 as s3 } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { bucketObjectsFinding, managedPolicyFinding } from '../nag/finding-ids';

export interface NodeRoleProps {
  /** What this role's nodes are, for descriptions: "GPU node" or "Ray head". */
  readonly purpose: string;
  readonly bucket: s3.IBucket;
  readonly bootstrapLogGroup: logs.ILogGroup;
  /** Bucket prefixes (from BUCKET_PREFIXES) the nodes may read. */
  readonly readPrefixes: readonly string[];
  /** Bucket prefixes the nodes may write. */
  readonly writePrefixes: readonly string[];
  /** ARNs of single objects elsewhere the nodes may read (the serve bundle and bootstrap Python assets). */
  readonly readObjectArns: readonly string[];
  /** ARNs of SSM parameters the nodes may read (the serve bundle's pointer). */
  readonly readParameterArns?: readonly string[];
  /** ARN of the Hugging Face token secret built from its name (no random suffix), when one is configured. */
  readonly hfTokenSecretArn?: string;
}

/**
 * The instance role of one node role: SSM Session Manager, its own bootstrap logs, and exactly the artifact
 * prefixes it needs. Nothing else: the nodes never call EC2, CloudFormation or IAM (the readiness signal goes to
 * a presigned WaitCondition URL, which needs no permission).
 */
export class NodeRole extends Construct {
  readonly role: iam.Role;
  readonly instanceProfile: iam.CfnInstanceProfile;

  constructor(scope: Construct, id: string, props: NodeRoleProps) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `${props.purpose}: SSM access, bootstrap logs, artifacts bucket prefixes ${[...props.readPrefixes, ...props.writePrefixes].join(' ')}`,
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    this.role.addToPolicy(new iam.PolicyStatement({
      sid: 'BootstrapLogs',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
      resources: [props.bootstrapLogGroup.logGroupArn],
    }));
    this.role.addToPolicy(new iam.PolicyStatement({
      sid: 'ReadServeBundleAsset',
      actions: ['s3:GetObject'],
      resources: [...props.readObjectArns],
    }));
    if (props.readParameterArns && props.readParameterArns.length > 0) {
      this.role.addToPolicy(new iam.PolicyStatement({
        sid: 'ReadServeBundlePointer',
        actions: ['ssm:GetParameter'],
        resources: [...props.readParameterArns],
      }));
    }
    if (props.readPrefixes.length > 0) {
      this.role.addToPolicy(new iam.PolicyStatement({
        sid: 'ReadArtifacts',
        actions: ['s3:GetObject'],
        resources: props.readPrefixes.map((p) => props.bucket.arnForObjects(`${p}*`)),
      }));
      this.role.addToPolicy(new iam.PolicyStatement({
        sid: 'ListArtifacts',
        actions: ['s3:ListBucket'],
        resources: [props.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': props.readPrefixes.map((p) => `${p}*`) } },
      }));
    }
    if (props.writePrefixes.length > 0) {
      this.role.addToPolicy(new iam.PolicyStatement({
        sid: 'WriteArtifacts',
        actions: ['s3:PutObject'],
        resources: props.writePrefixes.map((p) => props.bucket.arnForObjects(`${p}*`)),
      }));
    }
    if (props.hfTokenSecretArn) {
      this.role.addToPolicy(new iam.PolicyStatement({
        sid: 'ReadHuggingFaceToken',
        actions: ['secretsmanager:GetSecretValue'],
        // A secret's real ARN ends in -<6 random characters>; the ARN built from its name does not.
        resources: [`${props.hfTokenSecretArn}-??????`],
      }));
    }
    this.instanceProfile = new iam.CfnInstanceProfile(this, 'InstanceProfile', { roles: [this.role.roleName] });

    Validations.of(this.role).acknowledge({
      id: managedPolicyFinding('AmazonSSMManagedInstanceCore'),
      reason: 'The AWS-maintained minimum for Session Manager, the only way onto the nodes (no SSH, no public IP)',
    });
    for (const prefix of new Set([...props.readPrefixes, ...props.writePrefixes])) {
      Validations.of(this.role).acknowledge({
        id: bucketObjectsFinding(props.bucket, `${prefix}*`),
        reason: `Objects under ${prefix} of this stack's own artifacts bucket: the prefix this role's nodes ` +
          'exchange files through (serve bundle, head address, benchmark results), nothing else in the bucket',
      });
    }
  }
}
