import { Fn, Validations, aws_ec2 as ec2 } from 'aws-cdk-lib';
import { Construct, IDependable } from 'constructs';
import { ClusterConfig, gpuSpec, hasSeparateHead } from '../config/cluster-config';
import { nodeNameTag } from '../catalog/stack-names';
import { efaNetworkInterfaces } from './efa-interfaces';
import { NodeLaunchTemplate } from './node-launch-template';

/** Which node of the cluster a user data is for. */
export interface NodeIdentity {
  /** `head` = the separate CPU head instance; `gpu` = a GPU node (which may also be the Ray head). */
  readonly role: 'head' | 'gpu';
  /** True for the CPU head, or for GPU node 0 when `headInstanceType` is `none`. */
  readonly isRayHead: boolean;
  /** 0..gpuNodes-1 for GPU nodes; 0 for the head. */
  readonly gpuIndex: number;
}

export interface ClusterNodesProps {
  readonly config: ClusterConfig;
  readonly imageId: string;
  readonly subnetId: string;
  readonly securityGroupId: string;
  readonly gpuInstanceProfileArn: string;
  readonly headInstanceProfileArn: string;
  /** Cluster placement group of the GPU nodes; absent for a Capacity Block, which AWS places itself. */
  readonly placementGroupName?: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Produces each node's user data (the bootstrap module). */
  readonly userData: (node: NodeIdentity) => string;
  /** What every node must wait for before it launches (its security group rules, the S3 endpoint, its role policy). */
  readonly launchAfter: readonly IDependable[];
}

/**
 * The GPU nodes (one EFA launch template, N instances in the placement group) and the Ray head (its own small
 * CPU instance, or the first GPU node when `headInstanceType` is `none`). The GPU nodes have no dependency on each
 * other or on the head, so CloudFormation launches them together: a cluster placement group fills best when all
 * its instances are asked for at once.
 */
export class ClusterNodes extends Construct {
  readonly gpuInstances: ec2.CfnInstance[] = [];
  readonly headInstance?: ec2.CfnInstance;
  readonly gpuLaunchTemplate: NodeLaunchTemplate;
  readonly headLaunchTemplate?: NodeLaunchTemplate;

  constructor(scope: Construct, id: string, props: ClusterNodesProps) {
    super(scope, id);
    const { config } = props;
    const spec = gpuSpec(config);
    const separateHead = hasSeparateHead(config);

    this.gpuLaunchTemplate = new NodeLaunchTemplate(this, 'GpuLaunchTemplate', {
      instanceType: config.gpuInstanceType,
      imageId: props.imageId,
      instanceProfileArn: props.gpuInstanceProfileArn,
      networkInterfaces: efaNetworkInterfaces(spec, config.efaLayout, props.securityGroupId, props.subnetId),
      rootVolumeGiB: config.rootVolumeGiB,
      rootVolumeThroughputMiBps: config.rootVolumeThroughputMiBps,
      capacity: config.capacityReservationId
        ? { reservationId: config.capacityReservationId, capacityBlock: config.capacityBlock }
        : undefined,
      tags: { ...props.tags, 'p5-ray:role': 'gpu' },
    });

    for (let i = 0; i < config.gpuNodes; i++) {
      const isRayHead = !separateHead && i === 0;
      const instance = new ec2.CfnInstance(this, `GpuNode${i}`, {
        launchTemplate: this.gpuLaunchTemplate.specification,
        placementGroupName: props.placementGroupName,
        monitoring: true,
        userData: Fn.base64(props.userData({ role: 'gpu', isRayHead, gpuIndex: i })),
        tags: [{ key: 'Name', value: nodeNameTag(config.stackName, { role: 'gpu', gpuIndex: i, isRayHead }) }],
      });
      this.gpuInstances.push(instance);
    }

    if (separateHead) {
      this.headLaunchTemplate = new NodeLaunchTemplate(this, 'HeadLaunchTemplate', {
        instanceType: config.headInstanceType,
        imageId: props.imageId,
        instanceProfileArn: props.headInstanceProfileArn,
        networkInterfaces: [{
          deviceIndex: 0, groups: [props.securityGroupId], subnetId: props.subnetId, deleteOnTermination: true,
        }],
        // The head holds the venv (same Python + Ray as the GPU nodes, which Ray requires) but no model weights.
        rootVolumeGiB: Math.min(config.rootVolumeGiB, 200),
        // Restoring the venv from the deploy cache writes ~12 GB here: at gp3's included 125 MiB/s that alone would
        // take longer than the GPU nodes' whole restore.
        rootVolumeThroughputMiBps: config.rootVolumeThroughputMiBps,
        tags: { ...props.tags, 'p5-ray:role': 'head' },
      });
      this.headInstance = new ec2.CfnInstance(this, 'HeadNode', {
        launchTemplate: this.headLaunchTemplate.specification,
        monitoring: true,
        userData: Fn.base64(props.userData({ role: 'head', isRayHead: true, gpuIndex: 0 })),
        tags: [{ key: 'Name', value: nodeNameTag(config.stackName, { role: 'head', gpuIndex: 0, isRayHead: true }) }],
      });
    }

    for (const instance of this.allInstances) {
      for (const dependency of props.launchAfter) instance.node.addDependency(dependency);
      Validations.of(instance).acknowledge({
        id: 'AwsSolutions-EC29',
        reason: 'Termination protection would make `cdk destroy` fail and leave GPU nodes running and billing by the ' +
          'hour; the nodes hold no state that is not in the artifacts bucket or reproducible by redeploying',
      });
    }
  }

  /** Every instance of the cluster: GPU nodes first, then the separate head if there is one. */
  get allInstances(): ec2.CfnInstance[] {
    return this.headInstance ? [...this.gpuInstances, this.headInstance] : [...this.gpuInstances];
  }

  /** The instance that runs the Ray head (GCS, dashboard, Serve controller). */
  get rayHead(): ec2.CfnInstance {
    return this.headInstance ?? this.gpuInstances[0];
  }
}
