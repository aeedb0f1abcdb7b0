import { CustomResource, Duration, RemovalPolicy, Stack, aws_iam as iam, aws_lambda as lambda, aws_logs as logs } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { PINNED_AMI_HANDLER_SOURCE, PINNED_AMI_RESOURCE_TYPE } from './pinned-ami-handler';

export interface PinnedAmiProps {
  /** SSM parameter holding an AMI id, e.g. a DLAMI public parameter under /aws/service/. */
  readonly parameterName: string;
  /** Raising it resolves the parameter again (to whatever AMI it names then). */
  readonly generation: number;
}

/**
 * The nodes' AMI, resolved from an SSM parameter once, at creation, and again only when the parameter name or the
 * generation changes. A template parameter of type `AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>` would instead
 * be resolved at every deploy, so a redeploy after AWS published a new DLAMI would change the launch template and
 * replace every node. Synth stays offline: the lookup runs in CloudFormation, through a small inline Lambda.
 *
 * The function's ARN is the custom resource's ServiceToken, which is create-only: renaming this construct or the
 * function would create a new resource and resolve the newest AMI. Keep their ids.
 */
export class PinnedAmi extends Construct {
  /** The image id (a deploy-time token). */
  readonly imageId: string;
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: PinnedAmiProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // No logs:CreateLogGroup: once `cdk destroy` deleted the group, a late log line cannot bring it back.
    const role = new iam.Role(this, 'FunctionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Resolves the nodes' AMI from ${props.parameterName}; may only read that parameter and write its own logs`,
    });
    role.addToPolicy(new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [logGroup.logGroupArn],
    }));
    role.addToPolicy(new iam.PolicyStatement({
      actions: ['ssm:GetParameter'],
      resources: [parameterArn(stack, props.parameterName)],
    }));
    const fn = new lambda.Function(this, 'Function', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline(PINNED_AMI_HANDLER_SOURCE),
      timeout: Duration.seconds(60),
      memorySize: 128,
      role,
      logGroup,
      description: `Resolves the nodes' AMI from ${props.parameterName} once (again only when amiGeneration changes)`,
    });
    fn.node.addDependency(role);
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: fn.functionArn,
      resourceType: PINNED_AMI_RESOURCE_TYPE,
      properties: { ParameterName: props.parameterName, Generation: String(props.generation) },
    });
    this.imageId = this.resource.getAttString('ImageId');
  }
}

/**
 * The ARN of an SSM parameter. AWS's public parameters (under /aws/service/) belong to no account: their ARNs have
 * an empty account field, e.g. arn:aws:ssm:us-east-1::parameter/aws/service/deeplearning/… .
 */
export function parameterArn(stack: Stack, name: string): string {
  const account = name.startsWith('/aws/service/') ? '' : stack.account;
  return `arn:${stack.partition}:ssm:${stack.region}:${account}:parameter${name}`;
}
