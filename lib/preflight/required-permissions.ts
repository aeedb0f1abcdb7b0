/** The IAM actions preflight calls, all read-only; docs/preflight.md lists the same set. */
export const PREFLIGHT_IAM_ACTIONS = [
  'ec2:DescribeInstanceTypes',
  'ec2:DescribeInstanceTypeOfferings',
  'ec2:DescribeCapacityReservations',
  'servicequotas:GetServiceQuota',
  'servicequotas:GetAWSDefaultServiceQuota',
  's3:ListBucket',
] as const;
