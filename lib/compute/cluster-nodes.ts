import { createHash } from 'node:crypto';
import { Fn, Stack, Token, Validations, aws_ec2 as ec2 } from 'aws-cdk-lib';
import { Construct, IDependable } from 'constructs';
import { ClusterConfig, gpuSpec, hasSeparateHead } from '../config/cluster-config';
import { NODE_GENERATION_TAG, nodeNameTag } from '../catalog/stack-names';
import { efaNetworkInterfaces } from './efa-interfaces';
import { NodeLaunchTemplate, NodeLaunchTemplateProps } from './node-launch-template';

/** Which node of the cluster a user data is for. */
export interface NodeIdentity {
  /** `head` = the separate CPU head instance; `gpu` = a GPU node (which may also be the Ray head). */
  readonly role: 'head' | 'gpu';
  /** True for the CPU head, or for GPU node 0 when `headInstanceType` is `none`. */
  readonly isRayHead: boolean;
  /** 0..gpuNodes-1 for GPU nodes; 0 for the head. */
  readonly gpuIndex: number;
}

/**
 * One set of nodes, launched together and gated by its own readiness wait. Everything that defines what a node
 * runs at boot (launch template, user data, placement, AMI) goes into its id, so a change of any of it is a new
 * generation: every node is replaced and the new set signals a new WaitCondition. Anything else reaches the nodes
 * without touching them (the serve bundle) or not at all.
 */
export interface NodeGeneration {
  /** 8 hex digits, from a SHA-256 of what defines the nodes. */
  readonly id: string;
  /** The presigned URL of this generation's WaitConditionHandle (a token). */
  readonly signalUrl: string;
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
  /** Produces each node's user data (the bootstrap module) for a generation. */
  readonly userData: (node: NodeIdentity, generation: NodeGeneration) => string;
  /**
   * What defines the nodes beyond what the template shows of them: the AMI's SSM parameter and generation, which the
   * image id token hides, and what would replace a resource the nodes reference (the zone and VPC of their subnet
   * and security group) without changing its logical id.
   */
  readonly generationInputs: Readonly<Record<string, string | number>>;
  /** Creates the readiness wait's handle of a generation (its logical id derived from the id); returns its URL. */
  readonly readinessHandle: (generationId: string) => string;
  /** What every node must wait for before it launches (its security group rules, the S3 endpoint, its role policy). */
  readonly launchAfter: readonly IDependable[];
}

/** Stand-ins for the generation's own values while its id is computed from the user data that will carry them. */
const GENERATION_PROBE: NodeGeneration = { id: '@@NODE_GENERATION@@', signalUrl: '@@SIGNAL_URL@@' };

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
  readonly generation: NodeGeneration;

  constructor(scope: Construct, id: string, props: ClusterNodesProps) {
    super(scope, id);
    const { config } = props;
    const spec = gpuSpec(config);
    const separateHead = hasSeparateHead(config);
    const identities: NodeIdentity[] = [
      ...Array.from({ length: config.gpuNodes }, (_, i) => ({ role: 'gpu' as const, isRayHead: !separateHead && i === 0, gpuIndex: i })),
      ...(separateHead ? [{ role: 'head' as const, isRayHead: true, gpuIndex: 0 }] : []),
    ];

    const gpuTemplate: NodeLaunchTemplateProps = {
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
    };
    const headTemplate: NodeLaunchTemplateProps | undefined = separateHead ? {
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
    } : undefined;

    const generationId = generationIdOf(Stack.of(this), {
      inputs: props.generationInputs,
      gpuTemplate,
      headTemplate,
      placementGroupName: props.placementGroupName,
      userData: identities.map((node) => props.userData(node, GENERATION_PROBE)),
    });
    this.generation = { id: generationId, signalUrl: props.readinessHandle(generationId) };
    const withGeneration = (template: NodeLaunchTemplateProps): NodeLaunchTemplateProps =>
      ({ ...template, tags: { ...template.tags, [NODE_GENERATION_TAG]: generationId } });

    this.gpuLaunchTemplate = new NodeLaunchTemplate(this, 'GpuLaunchTemplate', withGeneration(gpuTemplate));
    if (headTemplate) this.headLaunchTemplate = new NodeLaunchTemplate(this, 'HeadLaunchTemplate', withGeneration(headTemplate));

    for (const node of identities) {
      const template = node.role === 'gpu' ? this.gpuLaunchTemplate : this.headLaunchTemplate!;
      const instance = new ec2.CfnInstance(this, node.role === 'gpu' ? `GpuNode${node.gpuIndex}` : 'HeadNode', {
        launchTemplate: launchTemplateOfGeneration(template, generationId),
        placementGroupName: node.role === 'gpu' ? props.placementGroupName : undefined,
        monitoring: true,
        userData: Fn.base64(props.userData(node, this.generation)),
        tags: [{ key: 'Name', value: nodeNameTag(config.stackName, node) }],
      });
      if (node.role === 'gpu') this.gpuInstances.push(instance);
      else this.headInstance = instance;
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

/** The generation id: 8 hex digits of a SHA-256 over what defines the nodes, with every token as its intrinsic. */
function generationIdOf(stack: Stack, definition: object): string {
  return createHash('sha256').update(JSON.stringify(stack.resolve(definition))).digest('hex').slice(0, 8);
}

/**
 * The launch template version an instance of a generation uses. The generation tag in the template makes a new
 * version, and LaunchTemplate is create-only on AWS::EC2::Instance, so CloudFormation replaces the instance. The
 * version is written as `Fn::Select [0, [<latest version>, <generation>]]`: it resolves to the latest version, and
 * the generation in the text makes `cdk diff` show the instance as replaced ("LaunchTemplate (requires
 * replacement)") instead of "may be replaced".
 */
function launchTemplateOfGeneration(template: NodeLaunchTemplate, generationId: string): ec2.CfnInstance.LaunchTemplateSpecificationProperty {
  const { launchTemplateId, version } = template.specification;
  return { launchTemplateId, version: Token.asString({ 'Fn::Select': ['0', [version, generationId]] }) };
}
