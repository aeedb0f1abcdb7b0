/**
 * CloudFormation resource types that cost nothing by themselves. Anything not listed here and not priced by
 * the cost review is reported as "unknown price" with a warning, so a new billable resource can never slip into
 * the stack at an implied price of zero. The reason is printed in the report's free-resources summary.
 */
export const FREE_RESOURCE_TYPES: Readonly<Record<string, string>> = {
  'AWS::EC2::VPC': 'no charge for the VPC itself',
  'AWS::EC2::Subnet': 'no charge',
  'AWS::EC2::RouteTable': 'no charge',
  'AWS::EC2::Route': 'no charge',
  'AWS::EC2::SubnetRouteTableAssociation': 'no charge',
  'AWS::EC2::InternetGateway': 'no charge (data transfer out is billed per GB, outside this estimate)',
  'AWS::EC2::VPCGatewayAttachment': 'no charge',
  'AWS::EC2::SecurityGroup': 'no charge',
  'AWS::EC2::SecurityGroupIngress': 'no charge',
  'AWS::EC2::SecurityGroupEgress': 'no charge',
  'AWS::EC2::NetworkAcl': 'no charge',
  'AWS::EC2::NetworkAclEntry': 'no charge',
  'AWS::EC2::SubnetNetworkAclAssociation': 'no charge',
  'AWS::EC2::PlacementGroup': 'no charge',
  'AWS::EC2::NetworkInterface': 'no charge for ENA/EFA interfaces (public IPv4 is priced where it is allocated)',
  'AWS::EC2::LaunchTemplate': 'no charge; its instance type and volumes are priced on each instance that uses it',
  'AWS::EC2::FlowLog': 'no charge; the logs it writes are priced on the log group',
  'AWS::IAM::Role': 'no charge',
  'AWS::IAM::Policy': 'no charge',
  'AWS::IAM::ManagedPolicy': 'no charge',
  'AWS::IAM::InstanceProfile': 'no charge',
  'AWS::Lambda::Permission': 'no charge',
  'AWS::Lambda::LayerVersion': 'no charge; layers count against the account\'s Lambda code storage quota, not the bill',
  'AWS::Logs::ResourcePolicy': 'no charge',
  'AWS::S3::BucketPolicy': 'no charge',
  'AWS::SSM::Parameter': 'standard-tier parameters are free',
  'AWS::Scheduler::ScheduleGroup': 'no charge',
  // aws.amazon.com/eventbridge/pricing: "AWS management events are ingested by the event bus for free".
  'AWS::Events::Rule': 'no charge for a rule on AWS service events of the default bus (its Lambda target is priced on the function)',
  'AWS::Budgets::Budget': 'budgets without actions are free',
  'AWS::CloudFormation::WaitCondition': 'no charge',
  'AWS::CloudFormation::WaitConditionHandle': 'no charge',
  'AWS::CloudFormation::CustomResource': 'no charge; the Lambda it invokes is priced on the function',
  'AWS::CDK::Metadata': 'no charge (CDK version reporting)',
  'AWS::SNS::Subscription': 'no charge',
};

/** `Custom::*` resources are custom resources: free themselves, their Lambda is priced separately. */
export function freeReason(resourceType: string): string | undefined {
  if (Object.prototype.hasOwnProperty.call(FREE_RESOURCE_TYPES, resourceType)) return FREE_RESOURCE_TYPES[resourceType];
  if (resourceType.startsWith('Custom::')) return FREE_RESOURCE_TYPES['AWS::CloudFormation::CustomResource'];
  return undefined;
}
