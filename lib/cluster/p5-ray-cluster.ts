import {
  CfnOutput, CfnWaitCondition, CfnWaitConditionHandle, RemovalPolicy, Stack, Tags, Token,
  aws_ec2 as ec2, aws_iam as iam, aws_logs as logs, aws_s3 as s3, aws_s3_assets as s3_assets, aws_secretsmanager as secretsmanager,
  aws_ssm as ssm,
} from 'aws-cdk-lib';
import { Construct, IConstruct, IDependable } from 'constructs';
import { renderUserData, stageBootstrapAsset } from '../bootstrap';
import { deployCacheBucketName, deployCachePrefixes, deployCacheSize, grantDeployCache } from '../cache/deploy-cache';
import { BUCKET_PREFIXES, NODE_PATHS } from '../catalog/paths';
import { PORTS } from '../catalog/ports';
import {
  COST_TAG_KEY, STACK_OUTPUTS, bootstrapLogGroupName, readinessGateLogicalId, serveBundleParameterName,
} from '../catalog/stack-names';
import { ClusterNodes } from '../compute/cluster-nodes';
import { PinnedAmi, parameterArn } from '../compute/pinned-ami';
import { ClusterConfig, hasSeparateHead, parseClusterConfig } from '../config/cluster-config';
import { ConfigError } from '../config/errors';
import { SETTINGS, SETTING_KEYS } from '../config/schema';
import type { CostInputs } from '../cost/report';
import { estimateBenchmarkRun } from '../estimates/benchmark-run';
import { SpendGuard } from '../guard/spend-guard';
import { NodeRole } from '../iam/node-role';
import { ClusterNetwork } from '../network/cluster-network';
import { ServeBundle } from '../serve/serve-bundle';
import { ArtifactsBucket } from '../storage/artifacts-bucket';
import { ClusterSettingsProps } from './settings-props.generated';

export { COST_TAG_KEY };

export interface P5RayClusterProps extends ClusterSettingsProps {
  /**
   * An existing VPC for the nodes: its subnet must be private, in `availabilityZone`, with NAT egress.
   * @default - a new VPC with a NAT gateway and SSM/S3 endpoints
   */
  readonly vpc?: ec2.IVpc;
  /**
   * The subnet of `vpc` the nodes use (the first one selected).
   * @default - the private subnets with egress of `vpc` in `availabilityZone`
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Whether to add stack outputs (instance ids, SSM commands, the bucket).
   * @default true
   */
  readonly outputs?: boolean;
}

/** Shell commands for a deployed cluster (they contain tokens: resolve them through the stack outputs). */
export interface ClusterCommands {
  readonly headShell: string;
  readonly dashboardPortForward: string;
  readonly servePortForward: string;
  /** Grafana and Prometheus listen on the head's 127.0.0.1 only: this forward is the way in. */
  readonly grafanaPortForward: string;
  readonly prometheusPortForward: string;
  readonly followBootstrapLogs: string;
  /** Run on the head node (through `headShell`). */
  readonly runAllBenchmarks: string;
}

/**
 * A Ray cluster of GPU nodes with every EFA interface configured, in one cluster placement group, running the
 * pinned vLLM + NIXL + LMCache stack with the KV-connector serve configurations of
 * anyscale/ray-serve-llm-perf-examples (`pd+kv_offloading`) ready to deploy and benchmark.
 *
 * The stack's deploy succeeds only once every node has verified its GPUs, EFA devices and Python stack and joined
 * Ray (`readiness`); otherwise it rolls back at once. A spend guard stops the GPU nodes after `maxHours`.
 * One per stack; the stack needs an explicit region (`env: { region }`): catalog, prices and zones depend on it.
 */
export class P5RayCluster extends Construct {
  /** Whether a construct is a P5RayCluster (also across copies of this library). */
  static isP5RayCluster(x: unknown): x is P5RayCluster {
    return typeof x === 'object' && x !== null && CLUSTER_SYMBOL in x;
  }

  /** The validated settings (props with their defaults, plus the stack's name and region). */
  readonly config: ClusterConfig;
  readonly network: ClusterNetwork;
  readonly vpc: ec2.IVpc;
  /** The cluster's security group: all traffic between members (EFA needs it), HTTPS/HTTP out, nothing in. */
  readonly securityGroup: ec2.SecurityGroup;
  readonly artifactsBucket: s3.Bucket;
  readonly bootstrapLogGroup: logs.LogGroup;
  readonly nodes: ClusterNodes;
  readonly gpuInstances: readonly ec2.CfnInstance[];
  /** The instance running the Ray head (the CPU head, or GPU node 0 with `headInstanceType: 'none'`). */
  readonly rayHead: ec2.CfnInstance;
  readonly gpuRole: iam.Role;
  readonly headRole: iam.Role;
  /**
   * Depend on this to act only once every node is verified and in the Ray cluster. Its logical id carries the node
   * generation: a change that replaces the nodes makes a new wait, which the new nodes signal.
   */
  readonly readiness: CfnWaitCondition;
  /** The nodes' AMI, resolved once (again only when amiParameter or amiGeneration changes). */
  readonly ami: PinnedAmi;
  readonly serveBundle: ServeBundle;
  /**
   * The SSM parameter naming the current serve bundle's S3 URL: the user data names the parameter, so a new bundle
   * reaches the nodes (run_all.sh installs it) without changing their user data.
   */
  readonly serveBundlePointer: ssm.StringParameter;
  readonly spendGuard: SpendGuard;
  readonly commands: ClusterCommands;
  /** What the cost review needs beside the template (the benchmark-run estimate). */
  readonly costInputs: CostInputs;

  constructor(scope: Construct, id: string, props: P5RayClusterProps = {}) {
    super(scope, id);
    Object.defineProperty(this, CLUSTER_SYMBOL, { value: true });
    const stack = Stack.of(this);
    this.config = clusterConfig(stack, props);
    const config = this.config;
    const existingCluster = stack.node.findAll().find((c) => c !== this && P5RayCluster.isP5RayCluster(c));
    if (existingCluster) {
      throw new ConfigError([`a stack holds one P5RayCluster; ${stack.stackName} already has ${existingCluster.node.path}`]);
    }
    Tags.of(this).add(COST_TAG_KEY, stack.stackName);
    Tags.of(this).add('p5-ray:gpu-instance-type', config.gpuInstanceType);

    this.network = new ClusterNetwork(this, 'Network', {
      availabilityZone: config.availabilityZone, vpc: props.vpc, vpcSubnets: props.vpcSubnets,
    });
    this.vpc = this.network.vpc;
    this.securityGroup = this.network.securityGroup;
    this.artifactsBucket = new ArtifactsBucket(this, 'Artifacts').bucket;
    // A CDK asset, not a BucketDeployment: `cdk deploy` uploads it before the stack starts (so no node waits for
    // it), it needs no copy function, and IAM can name the one object.
    this.serveBundle = new ServeBundle(this, 'ServeBundle', { config });
    // The nodes' Python checks and later bootstrap steps: embedded too, they would push the user data past EC2's 16 KB.
    const bootstrapPython = new s3_assets.Asset(this, 'BootstrapPython', { path: stageBootstrapAsset() });
    const bootstrapPythonArn = `arn:${stack.partition}:s3:::${bootstrapPython.s3BucketName}/${bootstrapPython.s3ObjectKey}`;
    this.serveBundlePointer = new ssm.StringParameter(this, 'ServeBundlePointer', {
      parameterName: serveBundleParameterName(stack.stackName),
      stringValue: this.serveBundle.asset.s3ObjectUrl,
      description: `S3 URL of the serve bundle of ${stack.stackName}'s latest deploy (the nodes and run_all.sh read it)`,
    });
    this.bootstrapLogGroup = new logs.LogGroup(this, 'BootstrapLogs', {
      logGroupName: bootstrapLogGroupName(stack.stackName),
      retention: logs.RetentionDays.TWO_WEEKS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const hfTokenSecretArn = config.hfTokenSecretName
      ? secretsmanager.Secret.fromSecretNameV2(this, 'HfTokenSecret', config.hfTokenSecretName).secretArn
      : undefined;

    const headOnGpu = !hasSeparateHead(config);
    const headAccess = { read: [BUCKET_PREFIXES.cluster], write: [BUCKET_PREFIXES.serve, BUCKET_PREFIXES.cluster, BUCKET_PREFIXES.results] };
    const roleProps = {
      bucket: this.artifactsBucket,
      bootstrapLogGroup: this.bootstrapLogGroup,
      readPrefixes: headAccess.read,
      readObjectArns: [this.serveBundle.objectArn, bootstrapPythonArn],
      readParameterArns: [parameterArn(stack, serveBundleParameterName(stack.stackName))],
      hfTokenSecretArn,
    };
    // Workers read only the head's address from the bucket (the serve bundle comes from the asset); with the head
    // on GPU node 0 they share its role.
    const gpuRole = new NodeRole(this, 'GpuNodeRole', {
      ...roleProps,
      purpose: headOnGpu ? 'GPU node (first one also Ray head)' : 'GPU node',
      // Every GPU node uploads its own facts file; with the head on GPU node 0, cluster/ already covers it.
      writePrefixes: headOnGpu ? headAccess.write : [BUCKET_PREFIXES.nodeFacts],
    });
    const headRole = headOnGpu ? gpuRole : new NodeRole(this, 'HeadNodeRole', { ...roleProps, purpose: 'Ray head', writePrefixes: headAccess.write });
    this.gpuRole = gpuRole.role;
    this.headRole = headRole.role;
    // Opt-in: a bucket outside this stack, each role scoped to its own cache prefixes.
    const cacheBucketName = deployCacheBucketName(config);
    if (cacheBucketName !== undefined) {
      grantDeployCache(gpuRole.role, cacheBucketName, deployCachePrefixes(config, 'gpu'));
      if (!headOnGpu) grantDeployCache(headRole.role, cacheBucketName, deployCachePrefixes(config, 'head'));
    }

    // Resolved at deploy time (synth needs no AWS call), once: a later deploy keeps the nodes' AMI unless asked.
    this.ami = new PinnedAmi(this, 'Ami', { parameterName: config.amiParameter, generation: config.amiGeneration });
    // A Capacity Block is placed by AWS; an ODCR made in a placement group serves only instances launched into it.
    const placementGroupName = config.capacityBlock ? undefined : config.placementGroupName
      ?? new ec2.PlacementGroup(this, 'PlacementGroup', { strategy: ec2.PlacementGroupStrategy.CLUSTER }).placementGroupName;

    // The nodes launch as soon as what they use at once exists: their security group rules, the S3 gateway endpoint,
    // their roles' policies (an instance profile alone would let the first S3 call fail with AccessDenied) and the
    // serve bundle's pointer (a parameter: seconds). Not the NAT route, which takes minutes: the bootstrap waits for
    // the internet itself, where it needs it.
    const launchAfter: IDependable[] = [...this.network.nodeLaunchDependencies, gpuRole.role, headRole.role, this.serveBundlePointer];
    this.nodes = new ClusterNodes(this, 'Nodes', {
      config,
      imageId: this.ami.imageId,
      // What replaces the nodes through what they reference: a subnet in another zone, a security group in another
      // VPC get new physical ids under the same logical ids, which the launch template's text does not show.
      generationInputs: {
        amiParameter: config.amiParameter, amiGeneration: config.amiGeneration,
        availabilityZone: config.availabilityZone, vpcId: this.vpc.vpcId,
      },
      // A new generation, a new handle: a handle that completed never waits again.
      readinessHandle: (generationId) => new CfnWaitConditionHandle(this, `ReadinessHandle${generationId}`).ref,
      subnetId: this.network.subnetId,
      securityGroupId: this.securityGroup.securityGroupId,
      gpuInstanceProfileArn: gpuRole.instanceProfile.attrArn,
      headInstanceProfileArn: headRole.instanceProfile.attrArn,
      placementGroupName,
      tags: { [COST_TAG_KEY]: stack.stackName },
      launchAfter,
      userData: (node, generation) => renderUserData({
        ...node,
        config,
        bucketName: this.artifactsBucket.bucketName,
        signalUrl: generation.signalUrl,
        nodeGeneration: generation.id,
        serveBundleParameter: serveBundleParameterName(stack.stackName),
        pythonFilesUrl: bootstrapPython.s3ObjectUrl,
        logGroupName: this.bootstrapLogGroup.logGroupName,
        stackName: stack.stackName,
        hfTokenSecretArn,
        cacheBucketName,
      }),
    });
    this.gpuInstances = this.nodes.gpuInstances;
    this.rayHead = this.nodes.rayHead;

    // Every node reports once: GPU nodes after their GPU, EFA and import checks and joining Ray, the head after all
    // GPUs are in the cluster. One FAILURE ends the wait at once, and the rollback terminates the instances. The
    // WaitCondition of a generation is created once its nodes exist, so it gates a replacement as it gates a create.
    this.readiness = new CfnWaitCondition(this, readinessGateLogicalId(this.nodes.generation.id), {
      handle: this.nodes.generation.signalUrl,
      count: config.gpuNodes + (hasSeparateHead(config) ? 1 : 0),
      timeout: String(config.bootstrapTimeoutMinutes * 60),
    });
    for (const instance of this.nodes.allInstances) this.readiness.node.addDependency(instance);

    this.spendGuard = new SpendGuard(this, 'SpendGuard', {
      gpuInstances: this.nodes.gpuInstances,
      maxHours: config.maxHours,
      budgetEmail: config.budgetEmail,
      costTagKey: COST_TAG_KEY,
      costTagValue: stack.stackName,
    });

    this.commands = clusterCommands(config.region, this.rayHead.ref, this.bootstrapLogGroup.logGroupName);
    this.costInputs = {
      benchmark: estimateBenchmarkRun(config),
      ...(cacheBucketName !== undefined
        ? { deployCache: { bucketName: config.cacheBucketName ?? `p5-ray-cache-<account>-${config.region}`, ...deployCacheSize(config, !headOnGpu) } }
        : {}),
    };
    if (props.outputs ?? true) this.addOutputs();
  }

  private addOutputs(): void {
    const { config, commands } = this;
    const out = (id: string, description: string, value: string) => new CfnOutput(this, id, { description, value });
    out(STACK_OUTPUTS.gpuInstanceIds, `The ${config.gpuNodes} ${config.gpuInstanceType} GPU nodes`, this.gpuInstances.map((i) => i.ref).join(','));
    out(STACK_OUTPUTS.headInstanceId, 'The Ray head node', this.rayHead.ref);
    out(STACK_OUTPUTS.nodeGeneration, 'Node generation: a deploy whose generation differs replaces every node', this.nodes.generation.id);
    out(STACK_OUTPUTS.nodeImageId, `The nodes' AMI, resolved from ${config.amiParameter} at amiGeneration=${config.amiGeneration}`, this.ami.imageId);
    out(STACK_OUTPUTS.serveBundleParameter, 'SSM parameter naming the current serve bundle (run_all.sh installs it on every node)',
      this.serveBundlePointer.parameterName);
    out(STACK_OUTPUTS.headShell, 'Open a shell on the Ray head (SSM Session Manager; no SSH)', commands.headShell);
    out(STACK_OUTPUTS.dashboardPortForward, `Ray dashboard on http://localhost:${PORTS.rayDashboard}`, commands.dashboardPortForward);
    out(STACK_OUTPUTS.servePortForward, `OpenAI-compatible endpoint on http://localhost:${PORTS.serveHttp}/v1`, commands.servePortForward);
    out(STACK_OUTPUTS.grafanaPortForward, `Grafana (study dashboard, Ray's dashboards) on http://localhost:${PORTS.grafana}`, commands.grafanaPortForward);
    out(STACK_OUTPUTS.prometheusPortForward, `Prometheus on http://localhost:${PORTS.prometheus}`, commands.prometheusPortForward);
    out(STACK_OUTPUTS.artifactsBucket, 'Serve bundle copy (serve/), benchmark results (results/)', this.artifactsBucket.bucketName);
    out(STACK_OUTPUTS.bootstrapLogs, 'Follow node bootstrap progress', commands.followBootstrapLogs);
    out(STACK_OUTPUTS.runAllBenchmarks, 'On the head node: deploy, smoke-test and benchmark every configuration in turn', commands.runAllBenchmarks);
  }
}

const CLUSTER_SYMBOL = Symbol.for('p5-ray-kv-cluster.P5RayCluster');

/**
 * The construct's props through the same reader and rules as the app's settings, so both reject a bad value with
 * the same one-line message. The stack supplies what is a stack's business: its name and region.
 */
function clusterConfig(stack: Stack, props: P5RayClusterProps): ClusterConfig {
  if (Token.isUnresolved(stack.region)) {
    throw new ConfigError([`P5RayCluster needs a stack with an explicit region (env: { region: 'us-east-1' }); ` +
      `${stack.stackName} has none: the instance catalog, prices and availability zone depend on it`]);
  }
  const settings: Record<string, unknown> = { stackName: stack.stackName, region: stack.region };
  const notSettings = new Set(['vpc', 'vpcSubnets', 'outputs']);
  for (const [key, value] of Object.entries(props)) {
    if (notSettings.has(key) || value === undefined) continue;
    if (SETTING_KEYS.includes(key as keyof ClusterConfig) && SETTINGS[key as keyof ClusterConfig].scope !== 'cluster') {
      throw new ConfigError([`${key} is not a P5RayCluster prop: ${key === 'vpcId' || key === 'subnetId' ? 'pass vpc and vpcSubnets' : 'it belongs to the stack'}`]);
    }
    settings[key] = value;
  }
  return parseClusterConfig(settings);
}

function clusterCommands(region: string, headInstanceId: string, logGroupName: string): ClusterCommands {
  const r = `--region ${region}`;
  const portForward = (port: number) =>
    `aws ssm start-session ${r} --target ${headInstanceId} --document-name AWS-StartPortForwardingSession ` +
    `--parameters '{"portNumber":["${port}"],"localPortNumber":["${port}"]}'`;
  return {
    headShell: `aws ssm start-session ${r} --target ${headInstanceId}`,
    dashboardPortForward: portForward(PORTS.rayDashboard),
    servePortForward: portForward(PORTS.serveHttp),
    grafanaPortForward: portForward(PORTS.grafana),
    prometheusPortForward: portForward(PORTS.prometheus),
    followBootstrapLogs: `aws logs tail ${r} --follow ${logGroupName}`,
    // As root: cluster.env (bucket, region) and the bundle folder belong to root, as does Ray.
    runAllBenchmarks: `sudo bash ${NODE_PATHS.serveBundle}/run_all.sh`,
  };
}

/** Every P5RayCluster under a construct (an app, a stage, a stack). */
export function clustersIn(root: IConstruct): P5RayCluster[] {
  return root.node.findAll().filter((c): c is P5RayCluster => P5RayCluster.isP5RayCluster(c));
}
