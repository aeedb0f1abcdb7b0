import { aws_ec2 as ec2 } from 'aws-cdk-lib';
import { Construct } from 'constructs';

export interface CapacityTarget {
  readonly reservationId: string;
  /** A Capacity Block (market type `capacity-block`) rather than an On-Demand Capacity Reservation. */
  readonly capacityBlock: boolean;
}

export interface NodeLaunchTemplateProps {
  readonly instanceType: string;
  readonly imageId: string;
  readonly instanceProfileArn: string;
  readonly networkInterfaces: ec2.CfnLaunchTemplate.NetworkInterfaceProperty[];
  readonly rootVolumeGiB: number;
  /**
   * Provisioned gp3 throughput, MiB/s; IOPS follow at 4 per MiB/s (gp3 allows at most 0.25 MiB/s per IOPS), at least
   * the included 3000.
   * @default 125 (gp3's included throughput)
   */
  readonly rootVolumeThroughputMiBps?: number;
  readonly capacity?: CapacityTarget;
  /** Tags for the instances and volumes launched from this template. */
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * A launch template written with the L1 construct, because the L2 `LaunchTemplate` cannot express several network
 * interfaces (aws-cdk #14494, #30891). Security groups live inside each interface: EC2 rejects template-level
 * SecurityGroupIds once NetworkInterfaces are given.
 */
export class NodeLaunchTemplate extends Construct {
  readonly template: ec2.CfnLaunchTemplate;

  constructor(scope: Construct, id: string, props: NodeLaunchTemplateProps) {
    super(scope, id);
    const tagList = Object.entries(props.tags).map(([key, value]) => ({ key, value }));
    this.template = new ec2.CfnLaunchTemplate(this, 'Resource', {
      launchTemplateData: {
        instanceType: props.instanceType,
        imageId: props.imageId,
        iamInstanceProfile: { arn: props.instanceProfileArn },
        networkInterfaces: props.networkInterfaces,
        metadataOptions: { httpTokens: 'required', httpEndpoint: 'enabled', httpPutResponseHopLimit: 1 },
        // Ubuntu DLAMIs boot from /dev/sda1. The Python stack (~25 GB) and, without NVMe, model weights live here.
        blockDeviceMappings: [{
          deviceName: '/dev/sda1',
          ebs: {
            volumeSize: props.rootVolumeGiB, volumeType: 'gp3', encrypted: true, deleteOnTermination: true,
            ...gp3Performance(props.rootVolumeThroughputMiBps),
          },
        }],
        ...(props.capacity ? capacityOptions(props.capacity) : {}),
        tagSpecifications: ['instance', 'volume', 'network-interface'].map((resourceType) => ({ resourceType, tags: tagList })),
      },
    });
  }

  /** The `LaunchTemplate` property of an instance launched from the template's latest version. */
  get specification(): ec2.CfnInstance.LaunchTemplateSpecificationProperty {
    return { launchTemplateId: this.template.ref, version: this.template.attrLatestVersionNumber };
  }
}

/** Throughput and the IOPS it needs (0.25 MiB/s per IOPS at most); nothing when gp3's included 125 MiB/s is asked for. */
export function gp3Performance(throughputMiBps: number | undefined): { throughput?: number; iops?: number } {
  if (throughputMiBps === undefined || throughputMiBps <= 125) return {};
  return { throughput: throughputMiBps, iops: Math.max(3000, throughputMiBps * 4) };
}

function capacityOptions(capacity: CapacityTarget): Partial<ec2.CfnLaunchTemplate.LaunchTemplateDataProperty> {
  const reservation = { capacityReservationTarget: { capacityReservationId: capacity.reservationId } };
  return capacity.capacityBlock
    ? { instanceMarketOptions: { marketType: 'capacity-block' }, capacityReservationSpecification: reservation }
    : { capacityReservationSpecification: reservation };
}

