import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { parseClusterConfig, RawConfig } from '../../lib/config/cluster-config';
import { P5RayClusterStack } from '../../lib/stack';

/**
 * Resource types whose replacement costs the user money or state: a new logical id for one of them makes
 * CloudFormation delete the old resource and create a new one on the next `cdk deploy` (for a GPU node, a
 * terminated $55/h instance and a fresh 30-minute bootstrap).
 */
export const GUARDED_RESOURCE_TYPES = [
  'AWS::EC2::Instance', 'AWS::EC2::LaunchTemplate', 'AWS::EC2::PlacementGroup', 'AWS::EC2::VPC', 'AWS::EC2::Subnet',
  'AWS::EC2::NatGateway', 'AWS::EC2::EIP', 'AWS::EC2::SecurityGroup', 'AWS::IAM::InstanceProfile', 'AWS::S3::Bucket',
  'AWS::Logs::LogGroup', 'AWS::CloudFormation::WaitCondition', 'AWS::CloudFormation::WaitConditionHandle',
  // A new id for the AMI's custom resource or its function (the ServiceToken is create-only) resolves the newest AMI
  // and replaces every node; a named SSM parameter under a new id fails the deploy (the name already exists).
  'Custom::PinnedAmi', 'AWS::Lambda::Function', 'AWS::SSM::Parameter',
] as const;

/** The stack shapes whose ids are guarded: the default, and the head on a GPU node (other instances). */
export const GUARDED_SHAPES: Readonly<Record<string, RawConfig>> = {
  default: {},
  headOnGpuNode: { headInstanceType: 'none' },
};

const CDK_JSON_CONTEXT = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;

/**
 * The readiness wait and its handle carry the node generation in their logical ids (a new generation must get a new
 * wait): the list records them as `<nodeGeneration>`, and logical-ids.test.ts checks the suffix is the generation.
 */
export const GENERATION_SUFFIXED_TYPES = ['AWS::CloudFormation::WaitCondition', 'AWS::CloudFormation::WaitConditionHandle'];
export const GENERATION_PLACEHOLDER = '<nodeGeneration>';

/** For each shape, each guarded type: the sorted logical ids of the stack this app synthesizes. */
export function guardedLogicalIds(): Record<string, Record<string, string[]>> {
  const result: Record<string, Record<string, string[]>> = {};
  for (const [shape, raw] of Object.entries(GUARDED_SHAPES)) {
    const config = parseClusterConfig(raw);
    // With cdk.json's feature flags, as `cdk deploy` synthesizes it: a flag can change logical ids too.
    const app = new App({ builtinCloudFormationValidation: false, context: CDK_JSON_CONTEXT });
    const stack = new P5RayClusterStack(app, config.stackName, { config });
    const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string }>;
    const generation = stack.cluster.nodes.generation.id;
    const recorded = (type: string, id: string) =>
      (GENERATION_SUFFIXED_TYPES.includes(type) && id.endsWith(generation) ? `${id.slice(0, -generation.length)}${GENERATION_PLACEHOLDER}` : id);
    result[shape] = Object.fromEntries(GUARDED_RESOURCE_TYPES.map((type) => [type,
      Object.entries(resources).filter(([, r]) => r.Type === type).map(([id]) => recorded(type, id)).sort()]));
  }
  return result;
}
