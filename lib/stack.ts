import { Stack, StackProps, Tags, aws_ec2 as ec2 } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { COST_TAG_KEY, P5RayCluster, P5RayClusterProps } from './cluster/p5-ray-cluster';
import { ClusterConfig } from './config/cluster-config';
import { SETTINGS, SETTING_KEYS } from './config/schema';

export interface P5RayClusterStackProps extends StackProps {
  /** The app's validated settings: the cluster's, plus the stack's own (name, region, an existing network by id). */
  readonly config: ClusterConfig;
}

/**
 * This app's stack: one P5RayCluster, with the `app`-scope settings turned into what the construct takes (an
 * existing VPC and subnet by id, imported without a lookup so synth stays offline).
 */
export class P5RayClusterStack extends Stack {
  readonly cluster: P5RayCluster;

  constructor(scope: Construct, id: string, props: P5RayClusterStackProps) {
    const { config } = props;
    // Region only: an explicit account would make the VPC look up AZs and need credentials at synth.
    super(scope, id, {
      description: `Ray + vLLM (NIXL, LMCache) on ${config.gpuNodes}x ${config.gpuInstanceType} with EFA`,
      ...props,
      env: { region: config.region, ...props.env },
    });
    // On the stack too, so CloudFormation also tags what CDK adds outside the construct (the bucket-emptying
    // function), and the stack itself.
    Tags.of(this).add(COST_TAG_KEY, this.stackName);
    Tags.of(this).add('p5-ray:gpu-instance-type', config.gpuInstanceType);
    // 'Default' is left out of logical ids: the resources keep the ids they had before the construct existed, so an
    // update never replaces a running node for a refactor.
    this.cluster = new P5RayCluster(this, 'Default', { ...clusterProps(config), ...this.existingNetwork(config) });
  }

  private existingNetwork(config: ClusterConfig): Pick<P5RayClusterProps, 'vpc' | 'vpcSubnets'> {
    if (config.vpcId === undefined || config.subnetId === undefined) return {};
    const az = config.availabilityZone;
    return {
      vpc: ec2.Vpc.fromVpcAttributes(this, 'ExistingVpc', {
        vpcId: config.vpcId, availabilityZones: [az], privateSubnetIds: [config.subnetId],
      }),
      vpcSubnets: { subnets: [ec2.Subnet.fromSubnetAttributes(this, 'ExistingSubnet', { subnetId: config.subnetId, availabilityZone: az })] },
    };
  }
}

/** The `cluster`-scope settings of a config, as construct props. */
export function clusterProps(config: ClusterConfig): P5RayClusterProps {
  return Object.fromEntries(SETTING_KEYS.filter((key) => SETTINGS[key].scope === 'cluster' && config[key] !== undefined)
    .map((key) => [key, config[key]]));
}
