import { CapacityReservation, InstanceTypeInfo } from '@aws-sdk/client-ec2';
import { ClusterConfig } from '../config/cluster-config';

export type CheckStatus = 'pass' | 'warn' | 'fail';

/** One line of the preflight report. */
export interface CheckResult {
  readonly name: string;
  readonly status: CheckStatus;
  readonly detail: string;
  /** Where the numbers came from, e.g. `live: DescribeInstanceTypes vs catalog`: the reader must know what to trust. */
  readonly source: string;
}

/**
 * The read-only questions preflight asks of an AWS account. The live implementation wraps the SDK clients; the
 * narrow shape keeps the checks free of SDK plumbing (pagination, commands) and easy to read as rules.
 */
export interface AccountReader {
  readonly region: string;
  /** Types the region does not know are simply absent from the answer. */
  instanceTypes(types: readonly string[]): Promise<readonly InstanceTypeInfo[]>;
  /** The availability zones of the region that offer the instance type. */
  offeringZones(instanceType: string): Promise<readonly string[]>;
  /** `undefined` when the id does not exist in this region (or is not visible to this account). */
  capacityReservation(id: string): Promise<CapacityReservation | undefined>;
  /** The applied value of an EC2 Service Quotas quota, or `undefined` when Service Quotas does not know it. */
  ec2Quota(quotaCode: string): Promise<number | undefined>;
  /** Where an S3 bucket is (S3 HeadBucket), or `undefined` when no bucket has that name. */
  bucketLocation(bucket: string): Promise<BucketLocation | undefined>;
}

export interface BucketLocation {
  readonly region: string;
  /**
   * Whether these credentials may read it (S3 names a bucket's region even to a caller it refuses); undefined when S3
   * only redirected the request to the bucket's region.
   */
  readonly accessible?: boolean;
}

export interface CheckContext {
  readonly config: ClusterConfig;
  readonly account: AccountReader;
  /** Injected so that time-window rules are testable. */
  readonly now: Date;
}

/**
 * One rule: it looks at the account and the config and states a verdict, or `undefined` when it does not apply to
 * this configuration (no reservation, no separate head). It may throw AWS errors; the runner reports them.
 */
export interface PreflightCheck {
  readonly name: string;
  run(context: CheckContext): Promise<CheckResult | undefined>;
}

export function result(name: string, status: CheckStatus, detail: string, source: string): CheckResult {
  return { name, status, detail, source };
}
