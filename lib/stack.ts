import {
  CfnOutput, CfnWaitCondition, CfnWaitConditionHandle, RemovalPolicy, Stack, StackProps, Tags,
  aws_ec2 as ec2, aws_logs as logs, aws_s3_assets as s3_assets, aws_secretsmanager as secretsmanager, aws_ssm as ssm,
} from 'aws-cdk-lib';
import { Construct, IDependable } from 'constructs';
import { BOOTSTRAP_PYTHON_ASSET_EXCLUDE, BOOTSTRAP_PYTHON_DIR, renderUserData } from './bootstrap';
import { BUCKET_PREFIXES, NODE_PATHS } from './catalog/paths';
import { PORTS } from './catalog/ports';
import { ClusterNodes } from './compute/cluster-nodes';
import { ClusterConfig, hasSeparateHead } from './config/cluster-config';
import { NodeRole } from './iam/node-role';
import { ClusterNetwork } from './network/cluster-network';
import { ArtifactsBucket } from './storage/artifacts-bucket';
import { SpendGuard } from './guard/spend-guard';

/** The cost-allocation tag on every resource; its value is the stack name. Budgets filter on it. */
export const COST_TAG_KEY = 'p5-ray:cluster';

export interface P5RayClusterStackProps extends StackProps {
  readonly config: ClusterConfig;
  /** Folder holding the rendered serve bundle (lib/serve); it becomes a CDK asset that every node fetches. */
  readonly serveBundleDir: string;
}

/**
 * One Ray cluster for the KV-connector benchmarks: network, artifacts bucket, node roles, the GPU nodes in their
 * placement group and the Ray head, a readiness gate that fails the deploy (and rolls everything back) unless
 * every node verified its GPUs and EFA and joined Ray, and the spend guard.
 */
export class P5RayClusterStack extends Stack {
  readonly nodes: ClusterNodes;
  readonly artifacts: ArtifactsBucket;
  readonly network: ClusterNetwork;
  readonly readiness: CfnWaitCondition;

  constructor(scope: Construct, id: string, props: P5RayClusterStackProps) {
    super(scope, id, props);
    const { config } = props;
    Tags.of(this).add(COST_TAG_KEY, config.stackName);
    Tags.of(this).add('p5-ray:gpu-instance-type', config.gpuInstanceType);

    this.network = new ClusterNetwork(this, 'Network', {
      availabilityZone: config.availabilityZone,
      existing: config.vpcId && config.subnetId ? { vpcId: config.vpcId, subnetId: config.subnetId } : undefined,
    });
    this.artifacts = new ArtifactsBucket(this, 'Artifacts');
    // A CDK asset, not a BucketDeployment: `cdk deploy` uploads it before the stack starts (so no node waits for
    // it), it needs no copy function, and IAM can name the one object.
    const serveBundle = new s3_assets.Asset(this, 'ServeBundle', { path: props.serveBundleDir });
    const serveBundleArn = `arn:${this.partition}:s3:::${serveBundle.s3BucketName}/${serveBundle.s3ObjectKey}`;
    // The nodes' Python checks: embedded too, they would push the user data past EC2's 16 KB.
    const bootstrapPython = new s3_assets.Asset(this, 'BootstrapPython', { path: BOOTSTRAP_PYTHON_DIR, exclude: [...BOOTSTRAP_PYTHON_ASSET_EXCLUDE] });
    const bootstrapPythonArn = `arn:${this.partition}:s3:::${bootstrapPython.s3BucketName}/${bootstrapPython.s3ObjectKey}`;
    const bootstrapLogs = new logs.LogGroup(this, 'BootstrapLogs', {
      logGroupName: `/p5-ray/${config.stackName}/bootstrap`,
      retention: logs.RetentionDays.TWO_WEEKS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const hfTokenSecretArn = config.hfTokenSecretName
      ? secretsmanager.Secret.fromSecretNameV2(this, 'HfTokenSecret', config.hfTokenSecretName).secretArn
      : undefined;

    const headOnGpu = !hasSeparateHead(config);
    const headAccess = { read: [BUCKET_PREFIXES.cluster], write: [BUCKET_PREFIXES.serve, BUCKET_PREFIXES.cluster, BUCKET_PREFIXES.results] };
    const gpuRole = new NodeRole(this, 'GpuNodeRole', {
      purpose: headOnGpu ? 'GPU node (first one also Ray head)' : 'GPU node',
      bucket: this.artifacts.bucket,
      bootstrapLogGroup: bootstrapLogs,
      // Workers read only the head's address from the bucket (the serve bundle comes from the asset); with the
      // head on GPU node 0 they share its role.
      readPrefixes: headAccess.read,
      // Every GPU node uploads its own facts file; with the head on GPU node 0, cluster/ already covers it.
      writePrefixes: headOnGpu ? headAccess.write : [BUCKET_PREFIXES.nodeFacts],
      readObjectArns: [serveBundleArn, bootstrapPythonArn],
      hfTokenSecretArn,
    });
    const headRole = headOnGpu ? gpuRole : new NodeRole(this, 'HeadNodeRole', {
      purpose: 'Ray head',
      bucket: this.artifacts.bucket,
      bootstrapLogGroup: bootstrapLogs,
      readPrefixes: headAccess.read,
      writePrefixes: headAccess.write,
      readObjectArns: [serveBundleArn, bootstrapPythonArn],
      hfTokenSecretArn,
    });

    // Resolved by CloudFormation at deploy time, so synth needs no AWS call and every deploy gets the newest DLAMI.
    const imageId = ssm.StringParameter.valueForTypedStringParameterV2(this, config.amiParameter, ssm.ParameterValueType.AWS_EC2_IMAGE_ID);
    // A Capacity Block is placed by AWS; an ODCR made in a placement group serves only instances launched into it.
    const placementGroupName = config.capacityBlock ? undefined : config.placementGroupName
      ?? new ec2.PlacementGroup(this, 'PlacementGroup', { strategy: ec2.PlacementGroupStrategy.CLUSTER }).placementGroupName;

    const signalHandle = new CfnWaitConditionHandle(this, 'ReadinessHandle');
    // Nodes start installing at once: the private route to the NAT must already exist.
    const launchAfter: IDependable[] = [];
    if (this.network.vpc instanceof ec2.Vpc) {
      launchAfter.push(...this.network.vpc.privateSubnets.map((s) => s.internetConnectivityEstablished));
    }
    this.nodes = new ClusterNodes(this, 'Nodes', {
      config,
      imageId,
      subnetId: this.network.subnetId,
      securityGroupId: this.network.securityGroup.securityGroupId,
      gpuInstanceProfileArn: gpuRole.instanceProfile.attrArn,
      headInstanceProfileArn: headRole.instanceProfile.attrArn,
      placementGroupName,
      tags: { [COST_TAG_KEY]: config.stackName },
      launchAfter,
      userData: (node) => renderUserData({
        ...node,
        config,
        bucketName: this.artifacts.bucket.bucketName,
        signalUrl: signalHandle.ref,
        serveBundleUrl: serveBundle.s3ObjectUrl,
        pythonFilesUrl: bootstrapPython.s3ObjectUrl,
        logGroupName: bootstrapLogs.logGroupName,
        stackName: config.stackName,
        hfTokenSecretArn,
      }),
    });

    // Every node reports once: GPU nodes after their GPU, EFA and import checks and joining Ray, the head after all
    // GPUs are in the cluster. One FAILURE ends the wait at once, and the rollback terminates the instances.
    this.readiness = new CfnWaitCondition(this, 'ClusterReady', {
      handle: signalHandle.ref,
      count: config.gpuNodes + (hasSeparateHead(config) ? 1 : 0),
      timeout: String(config.bootstrapTimeoutMinutes * 60),
    });
    for (const instance of this.nodes.allInstances) this.readiness.node.addDependency(instance);

    new SpendGuard(this, 'SpendGuard', {
      gpuInstances: this.nodes.gpuInstances,
      maxHours: config.maxHours,
      budgetEmail: config.budgetEmail,
      costTagKey: COST_TAG_KEY,
      costTagValue: config.stackName,
    });

    this.addOutputs(config, bootstrapLogs.logGroupName);
  }

  private addOutputs(config: ClusterConfig, logGroupName: string): void {
    const region = `--region ${config.region}`;
    const head = this.nodes.rayHead.ref;
    const portForward = (port: number) =>
      `aws ssm start-session ${region} --target ${head} --document-name AWS-StartPortForwardingSession ` +
      `--parameters '{"portNumber":["${port}"],"localPortNumber":["${port}"]}'`;
    new CfnOutput(this, 'GpuInstanceIds', {
      description: `The ${config.gpuNodes} ${config.gpuInstanceType} GPU nodes`,
      value: this.nodes.gpuInstances.map((i) => i.ref).join(','),
    });
    new CfnOutput(this, 'HeadInstanceId', { description: 'The Ray head node', value: head });
    new CfnOutput(this, 'HeadShellCommand', { description: 'Open a shell on the Ray head (SSM Session Manager; no SSH)', value: `aws ssm start-session ${region} --target ${head}` });
    new CfnOutput(this, 'DashboardPortForwardCommand', { description: `Ray dashboard on http://localhost:${PORTS.rayDashboard}`, value: portForward(PORTS.rayDashboard) });
    new CfnOutput(this, 'ServePortForwardCommand', { description: `OpenAI-compatible endpoint on http://localhost:${PORTS.serveHttp}/v1`, value: portForward(PORTS.serveHttp) });
    new CfnOutput(this, 'ArtifactsBucketName', { description: 'Serve bundle copy (serve/), benchmark results (results/)', value: this.artifacts.bucket.bucketName });
    new CfnOutput(this, 'BootstrapLogsCommand', { description: 'Follow node bootstrap progress', value: `aws logs tail ${region} --follow ${logGroupName}` });
    new CfnOutput(this, 'RunAllBenchmarksCommand', {
      description: 'On the head node: deploy, smoke-test and benchmark the four configurations in turn',
      // As root: cluster.env (bucket, region) and the bundle folder belong to root, as does Ray.
      value: `sudo bash ${NODE_PATHS.serveBundle}/run_all.sh`,
    });
  }
}
