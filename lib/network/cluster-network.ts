import { RemovalPolicy, Token, aws_ec2 as ec2, aws_logs as logs } from 'aws-cdk-lib';
import { Construct, IDependable } from 'constructs';
import { ConfigError } from '../config/errors';

export interface ClusterNetworkProps {
  readonly availabilityZone: string;
  /**
   * An existing VPC for the nodes. Its subnet must be private, in `availabilityZone`, with NAT (or equivalent)
   * egress to PyPI and Hugging Face, and reach SSM and S3.
   * @default - a new VPC with one public and one private subnet, a NAT gateway and SSM/S3 endpoints
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Which subnet of `vpc` the nodes use: the first one selected.
   * @default - the private subnets with egress of `vpc` in `availabilityZone`
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
}

/**
 * Where the nodes live: one private subnet in the placement group's AZ (instances with several network interfaces
 * cannot get a public IP), NAT egress for pip and Hugging Face downloads, endpoints so SSM and S3 never depend on
 * the NAT, and the cluster security group.
 */
export class ClusterNetwork extends Construct {
  readonly vpc: ec2.IVpc;
  readonly subnetId: string;
  readonly securityGroup: ec2.SecurityGroup;
  /**
   * What a node needs before it launches: its security group with every rule (EFA and Ray between members), and the
   * S3 gateway endpoint's route (S3 works at once, without the NAT). Not the NAT route: a NAT gateway takes minutes
   * to create, and the bootstrap waits for the internet itself, only where it needs it.
   */
  readonly nodeLaunchDependencies: IDependable[] = [];
  /** The subnet's route to the NAT gateway (a new VPC only): what the nodes reach PyPI and Hugging Face through. */
  readonly internetRoute?: IDependable;

  constructor(scope: Construct, id: string, props: ClusterNetworkProps) {
    super(scope, id);
    if (props.vpc) {
      this.vpc = props.vpc;
      this.subnetId = existingSubnet(props.vpc, props.vpcSubnets, props.availabilityZone).subnetId;
    } else {
      const vpc = this.createVpc(props.availabilityZone);
      this.vpc = vpc;
      this.subnetId = vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds[0];
    }
    this.securityGroup = this.createSecurityGroup();
    // The whole construct: the group and its separate self-referencing ingress/egress rules.
    this.nodeLaunchDependencies.push(this.securityGroup);
    if (!props.vpc) {
      const vpc = this.vpc as ec2.Vpc;
      this.internetRoute = vpc.privateSubnets[0].internetConnectivityEstablished;
      this.nodeLaunchDependencies.push(this.addEndpoints());
    }
  }

  private createVpc(availabilityZone: string): ec2.Vpc {
    const vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.42.0.0/16'),
      // Naming the AZ (not maxAzs) keeps synth free of AWS calls: no AZ lookup for a region-only environment.
      availabilityZones: [availabilityZone],
      natGateways: 1,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        // A p5 in the `efa` layout takes 32 IPs; /20 leaves room for several clusters' worth of nodes.
        { name: 'nodes', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
      ],
      restrictDefaultSecurityGroup: false,
    });
    // Rejected flows only: they are what explains a Ray worker that cannot reach the head, and they stay cheap
    // even while the nodes pull 100+ GB of weights through the NAT.
    const flowLogGroup = new logs.LogGroup(this, 'RejectedFlows', {
      retention: logs.RetentionDays.ONE_WEEK,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    vpc.addFlowLog('RejectedFlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.REJECT,
    });
    return vpc;
  }

  private createSecurityGroup(): ec2.SecurityGroup {
    const sg = new ec2.SecurityGroup(this, 'ClusterSecurityGroup', {
      vpc: this.vpc,
      description: 'Ray + EFA cluster: all traffic between members only; no inbound from outside',
      // Explicit egress: with allowAllOutbound CDK drops the self-referencing egress rule EFA asks for.
      allowAllOutbound: false,
    });
    // EFA requires all traffic in and out to the group itself; it also covers every Ray port (GCS, object
    // manager, worker ports 10002-19999, Serve, NIXL side channels) without listing them.
    sg.addIngressRule(sg, ec2.Port.allTraffic(), 'EFA and Ray: all traffic from cluster members');
    sg.addEgressRule(sg, ec2.Port.allTraffic(), 'EFA and Ray: all traffic to cluster members');
    // Out of the cluster only HTTPS (AWS APIs, PyPI, Hugging Face, the WaitCondition URL) and HTTP (Ubuntu apt
    // mirrors). DNS and NTP go to the VPC resolver and the Time Sync Service, which security groups do not filter.
    sg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS: AWS APIs, PyPI, Hugging Face');
    sg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(80), 'HTTP: Ubuntu package mirrors');
    return sg;
  }

  /**
   * S3 as a gateway endpoint (free, and a route in the subnet's table as soon as it exists: the nodes fetch the CDK
   * assets, the head address and the deploy cache through it without the NAT), SSM as interface endpoints. Returns
   * the S3 endpoint. The SSM endpoints are not waited for: the SSM agent retries its registration until they (or
   * the NAT route) exist, and the bootstrap's one SSM call (the serve bundle's URL) waits for either likewise.
   */
  private addEndpoints(): ec2.GatewayVpcEndpoint {
    const vpc = this.vpc as ec2.Vpc;
    const subnets = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    const s3 = vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3, subnets: [subnets] });
    const endpointSg = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc,
      description: 'Interface endpoints: HTTPS from cluster members only',
      allowAllOutbound: false,
    });
    endpointSg.addIngressRule(this.securityGroup, ec2.Port.tcp(443), 'HTTPS from cluster members');
    const services: Record<string, ec2.InterfaceVpcEndpointAwsService> = {
      Ssm: ec2.InterfaceVpcEndpointAwsService.SSM,
      SsmMessages: ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES,
      Ec2Messages: ec2.InterfaceVpcEndpointAwsService.EC2_MESSAGES,
    };
    for (const [name, service] of Object.entries(services)) {
      vpc.addInterfaceEndpoint(name, { service, subnets, securityGroups: [endpointSg], open: false });
    }
    return s3;
  }
}

/** The subnet the nodes use in an existing VPC: the first selected, which must lie in the placement group's AZ. */
function existingSubnet(vpc: ec2.IVpc, selection: ec2.SubnetSelection | undefined, availabilityZone: string): ec2.ISubnet {
  const chosen = vpc.selectSubnets(selection ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, availabilityZones: [availabilityZone] });
  const subnet = chosen.subnets[0];
  if (subnet === undefined) {
    throw new ConfigError([`vpcSubnets selects no subnet of the given vpc${selection ? '' : ` (default: private subnets with egress in ${availabilityZone})`}: ` +
      'the nodes need one private subnet in availabilityZone with NAT egress']);
  }
  let az: string | undefined;
  try {
    az = subnet.availabilityZone;
  } catch {
    // An imported subnet without its zone: nothing to compare (npm run preflight cannot either, offline).
  }
  if (az !== undefined && !Token.isUnresolved(az) && az !== '' && az !== availabilityZone) {
    throw new ConfigError([`invalid setting availabilityZone=${availabilityZone}: the selected subnet ${subnet.subnetId} is in ${az}; ` +
      'the placement group, subnet and nodes must share one zone']);
  }
  return subnet;
}
