import { CfnElement, Stack, aws_s3 as s3 } from 'aws-cdk-lib';

/**
 * cdk-nag 3 acknowledges findings by their exact id, e.g. `AwsSolutions-IAM5[Resource::<Bucket1234.Arn>/serve/*]`,
 * so an acknowledgement names the one finding it accepts, never the whole rule. These build those ids from the
 * constructs themselves, so a renamed construct cannot leave a stale acknowledgement behind.
 */
export function managedPolicyFinding(policyPath: string): string {
  return `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${policyPath}]`;
}

/** The IAM5 finding for a wildcard on objects of `bucket` under `keyPattern` (e.g. `serve/*`, `*`). */
export function bucketObjectsFinding(bucket: s3.IBucket, keyPattern: string): string {
  const cfnBucket = bucket.node.defaultChild as CfnElement;
  return `AwsSolutions-IAM5[Resource::<${Stack.of(bucket).getLogicalId(cfnBucket)}.Arn>/${keyPattern}]`;
}

