import { Aws, CfnElement, Stack, aws_s3 as s3 } from 'aws-cdk-lib';

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


/**
 * The IAM5 finding for a wildcard on objects under `keyPattern` of a bucket known by name (the deploy cache, which
 * lives outside this stack). cdk-nag writes the resource as the resolved ARN with pseudo parameters as `<AWS::…>`.
 */
export function cacheObjectsFinding(stack: Stack, bucketName: string, keyPattern: string): string {
  const arn = stack.resolve(`arn:${Aws.PARTITION}:s3:::${bucketName}/${keyPattern}`) as unknown;
  return `AwsSolutions-IAM5[Resource::${nagText(arn)}]`;
}

/** A resolved CloudFormation value as cdk-nag prints it: literals as they are, pseudo parameters as <AWS::…>. */
function nagText(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (typeof v.Ref === 'string') return `<${v.Ref}>`;
  const join = v['Fn::Join'] as [string, unknown[]] | undefined;
  if (join) return join[1].map(nagText).join(join[0]);
  return JSON.stringify(value);
}
