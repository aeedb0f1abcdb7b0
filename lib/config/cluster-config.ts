import { CPU_INSTANCES, GPU_INSTANCES, GpuInstanceSpec, gpuInstance, cpuInstance } from '../catalog/instances';
import { DEFAULT_AMI_PARAMETER } from '../catalog/software';
import { ConfigError, invalid } from './errors';

/**
 * The validated, typed configuration of one cluster. Produced only by `parseClusterConfig`; every construct and
 * generator takes it as given and never re-reads the environment or the CDK context.
 */
export interface ClusterConfig {
  readonly stackName: string;
  readonly region: string;
  readonly availabilityZone: string;
  readonly gpuInstanceType: string;
  readonly gpuNodes: number;
  /** A CPU instance type for the Ray head, or `none` to run the head on the first GPU node. */
  readonly headInstanceType: string;
  readonly efaLayout: EfaLayout;
  readonly amiParameter: string;
  readonly rootVolumeGiB: number;
  readonly model: string;
  readonly servedModelName: string;
  readonly maxModelLen: number;
  readonly tensorParallelSize: number;
  readonly prefillReplicas: number;
  readonly decodeReplicas: number;
  readonly nixlBackend: NixlBackend;
  readonly lmcacheChunkSize: number;
  readonly lmcacheCpuGbPerRank: number;
  readonly lmcacheDiskGb: number;
  readonly capacityReservationId?: string;
  readonly capacityBlock: boolean;
  /** An existing cluster placement group (e.g. the one an ODCR was created in) instead of a new one. */
  readonly placementGroupName?: string;
  readonly maxHours: number;
  readonly budgetEmail?: string;
  readonly vpcId?: string;
  readonly subnetId?: string;
  readonly hfTokenSecretName?: string;
  readonly bootstrapTimeoutMinutes: number;
}

/**
 * `efa-only`: AWS's current layout for multi-card instances (ENA primary at card 0 / device 0, `efa-only` at
 * card 0 / device 1 and at device 0 of every other card). `efa`: the older layout (an `efa` interface, which
 * also carries IP traffic, at device 0 of every card), kept for AMIs or tools that expect it.
 */
export type EfaLayout = 'efa-only' | 'efa';
export const EFA_LAYOUTS: readonly EfaLayout[] = ['efa-only', 'efa'];

export type NixlBackend = 'UCX' | 'LIBFABRIC';
export const NIXL_BACKENDS: readonly NixlBackend[] = ['UCX', 'LIBFABRIC'];

type Kind = 'string' | 'integer' | 'number' | 'boolean';

interface KeySpec {
  readonly kind: Kind;
  readonly doc: string;
  /** Shown in the README; `undefined` means the setting is optional and off by default. */
  readonly defaultText?: string;
}

/** Every setting the app reads, with its documentation. The README's settings table mirrors this list. */
export const CONFIG_KEYS: Readonly<Record<keyof ClusterConfig, KeySpec>> = {
  stackName: { kind: 'string', defaultText: 'P5RayKvCluster', doc: 'CloudFormation stack name; also the cost-allocation tag value' },
  region: { kind: 'string', defaultText: 'us-east-1', doc: 'deploy region' },
  availabilityZone: { kind: 'string', defaultText: '<region>a', doc: 'AZ of the placement group, subnet and nodes; must belong to the region' },
  gpuInstanceType: { kind: 'string', defaultText: 'p5.48xlarge', doc: `GPU node type, one of ${Object.keys(GPU_INSTANCES).join(', ')}` },
  gpuNodes: { kind: 'integer', defaultText: '2', doc: 'number of GPU nodes, 2–16 (the PD configurations put prefill and decode on separate nodes)' },
  headInstanceType: { kind: 'string', defaultText: 'm7i.2xlarge', doc: `Ray head node type, one of ${Object.keys(CPU_INSTANCES).join(', ')}, or none (head on the first GPU node)` },
  efaLayout: { kind: 'string', defaultText: 'efa-only', doc: 'EFA interface layout: efa-only (AWS current: ENA primary + efa-only on every card) or efa (older: efa on every card)' },
  amiParameter: { kind: 'string', defaultText: 'DLAMI Base OSS Nvidia Driver GPU Ubuntu 24.04', doc: 'SSM parameter holding the AMI id, resolved at deploy time; AWS public parameters must be x86_64 Ubuntu 24.04 (what the bootstrap supports)' },
  rootVolumeGiB: { kind: 'integer', defaultText: '300', doc: 'encrypted gp3 root volume per node, GiB (100–16384)' },
  model: { kind: 'string', defaultText: 'openai/gpt-oss-120b', doc: 'Hugging Face model id served' },
  servedModelName: { kind: 'string', defaultText: 'gptoss', doc: 'model name clients send (the OpenAI `model` field)' },
  maxModelLen: { kind: 'integer', defaultText: '16000', doc: "vLLM max_model_len; must hold the benchmark's input + output tokens" },
  tensorParallelSize: { kind: 'integer', defaultText: '4', doc: 'tensor parallelism per replica; must divide the GPUs per node' },
  prefillReplicas: { kind: 'integer', defaultText: '1', doc: 'prefill replicas in the PD configurations, all on one node (× TP ≤ GPUs per node)' },
  decodeReplicas: { kind: 'integer', defaultText: '1', doc: 'decode replicas in the PD configurations, all on one other node (× TP ≤ GPUs per node)' },
  nixlBackend: { kind: 'string', defaultText: 'LIBFABRIC', doc: 'NIXL transport over EFA: LIBFABRIC or UCX' },
  lmcacheChunkSize: { kind: 'integer', defaultText: '256', doc: 'LMCache chunk size, tokens' },
  lmcacheCpuGbPerRank: { kind: 'number', defaultText: '100', doc: 'LMCache pinned CPU memory per TP rank, GB (× ranks per node must fit the node RAM with 25% headroom)' },
  lmcacheDiskGb: { kind: 'number', defaultText: '0', doc: 'LMCache disk tier per rank on the NVMe instance store, GB (0 = off)' },
  capacityReservationId: { kind: 'string', doc: 'On-Demand Capacity Reservation or Capacity Block id (cr-…) for the GPU nodes' },
  capacityBlock: { kind: 'boolean', defaultText: 'false', doc: 'launch the GPU nodes into a Capacity Block (needs capacityReservationId)' },
  placementGroupName: { kind: 'string', doc: 'existing cluster placement group for the GPU nodes instead of a new one: required when the ODCR was created in a placement group (not with capacityBlock)' },
  maxHours: { kind: 'number', defaultText: '8', doc: 'spend guard: stop the GPU nodes this many hours after creation (0 = off, warned about; else at least the bootstrap timeout + 30 min)' },
  budgetEmail: { kind: 'string', doc: 'e-mail address for an AWS Budgets alert on this stack\'s cost-allocation tag' },
  vpcId: { kind: 'string', doc: 'existing VPC to use instead of creating one (needs subnetId)' },
  subnetId: { kind: 'string', doc: 'private subnet of vpcId in availabilityZone, with NAT egress (needs vpcId)' },
  hfTokenSecretName: { kind: 'string', doc: 'Secrets Manager secret holding a Hugging Face token, for gated models' },
  bootstrapTimeoutMinutes: { kind: 'integer', defaultText: '90', doc: 'how long CloudFormation waits for every node to report ready before rolling back (20–240)' },
};

export type RawConfig = Readonly<Record<string, unknown>>;

/**
 * Turns raw settings (strings from `-c key=value`, typed values from YAML or cdk.json) into a ClusterConfig, or
 * throws a ConfigError listing every problem found.
 */
export function parseClusterConfig(raw: RawConfig): ClusterConfig {
  const problems: string[] = [];
  for (const key of Object.keys(raw)) {
    if (!Object.prototype.hasOwnProperty.call(CONFIG_KEYS, key)) {
      problems.push(`unknown setting ${key}: allowed settings are ${Object.keys(CONFIG_KEYS).join(', ')}`);
    }
  }
  const read = new Reader(raw, problems);

  const region = read.string('region', 'us-east-1', /^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'an AWS region name such as us-east-1');
  const azDefault = `${region}a`;
  const availabilityZone = read.string('availabilityZone', azDefault, /^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$/, 'an availability zone name such as us-east-1a');
  if (read.has('availabilityZone') && !availabilityZone.startsWith(region)) {
    problems.push(invalid('availabilityZone', availabilityZone, `must be a zone of region ${region} (${region}a, ${region}b, …)`));
  }

  const gpuInstanceType = read.oneOf('gpuInstanceType', 'p5.48xlarge', Object.keys(GPU_INSTANCES));
  const gpu: GpuInstanceSpec = gpuInstance(gpuInstanceType) ?? GPU_INSTANCES['p5.48xlarge'];
  const headInstanceType = read.oneOf('headInstanceType', 'm7i.2xlarge', [...Object.keys(CPU_INSTANCES), 'none']);

  const gpuNodes = read.integer('gpuNodes', 2, 1, 16);
  const tensorParallelSize = read.integer('tensorParallelSize', 4, 1, gpu.gpus);
  if (gpu.gpus % tensorParallelSize !== 0) {
    const divisors = range(1, gpu.gpus).filter((d) => gpu.gpus % d === 0);
    problems.push(invalid('tensorParallelSize', tensorParallelSize,
      `must divide the ${gpu.gpus} GPUs per ${gpuInstanceType} node (allowed: ${divisors.join(', ')})`));
  }
  const prefillReplicas = read.integer('prefillReplicas', 1, 1, 64);
  const decodeReplicas = read.integer('decodeReplicas', 1, 1, 64);
  const replicasPerNode = Math.max(1, Math.floor(gpu.gpus / tensorParallelSize));
  // One Serve LLM deployment has a single placement_group_config for all its replicas, so each PD side is pinned
  // to one node: its replicas must fit that node's GPUs, and the two sides need two nodes.
  for (const [key, replicas] of [['prefillReplicas', prefillReplicas], ['decodeReplicas', decodeReplicas]] as const) {
    if (replicas > replicasPerNode) {
      problems.push(invalid(key, replicas,
        `${replicas} replicas × TP=${tensorParallelSize} need ${replicas * tensorParallelSize} GPUs on one node, but a ` +
        `${gpuInstanceType} has ${gpu.gpus} (each PD side is pinned to one node; at most ${replicasPerNode})`));
    }
  }
  if (gpuNodes < 2) {
    problems.push(invalid('gpuNodes', gpuNodes,
      'the PD configurations put prefill and decode on separate GPU nodes, so at least 2 GPU nodes are needed'));
  }

  const efaLayout = read.oneOf('efaLayout', 'efa-only', EFA_LAYOUTS) as EfaLayout;
  const amiParameter = read.string('amiParameter', DEFAULT_AMI_PARAMETER, /^\/[\w.\-/]+$/, 'an SSM parameter name starting with /');
  // The bootstrap is Ubuntu 24.04 only (Python 3.12, apt, /dev/sda1 root) and the GPU types are x86_64: an AWS
  // public parameter for anything else would boot, bill, and fail minutes later.
  if (amiParameter.startsWith('/aws/service/') && !(amiParameter.includes('/x86_64/') && amiParameter.includes('ubuntu-24.04'))) {
    problems.push(invalid('amiParameter', amiParameter,
      'the node bootstrap supports x86_64 Ubuntu 24.04 AMIs only, e.g. ' + DEFAULT_AMI_PARAMETER));
  }
  const rootVolumeGiB = read.integer('rootVolumeGiB', 300, 100, 16384);

  const model = read.string('model', 'openai/gpt-oss-120b', /^[\w.-]+\/[\w.-]+$/, 'a Hugging Face model id such as openai/gpt-oss-120b');
  const servedModelName = read.string('servedModelName', 'gptoss', /^[\w.:-]{1,64}$/, 'letters, digits, . _ : - (at most 64)');
  const maxModelLen = read.integer('maxModelLen', 16000, 256, 1_048_576);
  const nixlBackend = read.oneOf('nixlBackend', 'LIBFABRIC', NIXL_BACKENDS) as NixlBackend;

  const lmcacheChunkSize = read.integer('lmcacheChunkSize', 256, 16, 8192);
  const lmcacheCpuGbPerRank = read.number('lmcacheCpuGbPerRank', 100, 1, 4096);
  const ranksPerNode = replicasPerNode * tensorParallelSize;
  const cpuBudgetGb = Math.floor(gpu.memoryGiB * 0.75);
  if (lmcacheCpuGbPerRank * ranksPerNode > cpuBudgetGb) {
    problems.push(invalid('lmcacheCpuGbPerRank', lmcacheCpuGbPerRank,
      `${ranksPerNode} TP ranks per ${gpuInstanceType} node × ${lmcacheCpuGbPerRank} GB = ` +
      `${lmcacheCpuGbPerRank * ranksPerNode} GB pinned RAM exceeds 75% of its ${gpu.memoryGiB} GiB ` +
      `(at most ${Math.floor(cpuBudgetGb / ranksPerNode)} GB per rank)`));
  }
  const lmcacheDiskGb = read.number('lmcacheDiskGb', 0, 0, 1_000_000);
  const nvmeGb = gpu.nvmeDisks * gpu.nvmeDiskGB;
  if (lmcacheDiskGb * ranksPerNode > nvmeGb * 0.8) {
    problems.push(invalid('lmcacheDiskGb', lmcacheDiskGb,
      `${ranksPerNode} ranks × ${lmcacheDiskGb} GB exceeds 80% of the ${nvmeGb} GB NVMe instance store ` +
      `(at most ${Math.floor((nvmeGb * 0.8) / ranksPerNode)} GB per rank)`));
  }

  const capacityReservationId = read.optionalString('capacityReservationId', /^cr-[0-9a-f]{8,17}$/, 'a capacity reservation id: cr- and 8–17 hex digits');
  const capacityBlock = read.boolean('capacityBlock', false);
  if (capacityBlock && capacityReservationId === undefined) {
    problems.push(invalid('capacityBlock', true, 'a Capacity Block launch needs capacityReservationId=cr-… (the block\'s reservation id)'));
  }

  const placementGroupName = read.optionalString('placementGroupName', /^[A-Za-z0-9_.-]{1,255}$/, 'a placement group name (letters, digits, _ . -)');
  if (placementGroupName !== undefined && capacityBlock) {
    problems.push(invalid('placementGroupName', placementGroupName, 'a Capacity Block is placed by AWS: launch it without a placement group'));
  }

  const maxHours = read.number('maxHours', 8, 0, 24 * 30);
  const budgetEmail = read.optionalString('budgetEmail', /^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'an e-mail address');
  const vpcId = read.optionalString('vpcId', /^vpc-[0-9a-f]{8,17}$/, 'a VPC id: vpc- and 8–17 hex digits');
  const subnetId = read.optionalString('subnetId', /^subnet-[0-9a-f]{8,17}$/, 'a subnet id: subnet- and 8–17 hex digits');
  if (vpcId !== undefined && subnetId === undefined) {
    problems.push(invalid('vpcId', vpcId, 'an existing VPC also needs subnetId: a private subnet in availabilityZone with NAT egress'));
  }
  if (subnetId !== undefined && vpcId === undefined) {
    problems.push(invalid('subnetId', subnetId, 'needs vpcId, the VPC the subnet belongs to'));
  }
  const hfTokenSecretName = read.optionalString('hfTokenSecretName', /^[\w/+=.@-]{1,512}$/, 'a Secrets Manager secret name');
  const bootstrapTimeoutMinutes = read.integer('bootstrapTimeoutMinutes', 90, 20, 240);
  // A guard that fires during the bootstrap stops the nodes before they can report ready: the deploy then waits
  // out the whole timeout and rolls back, billing all the while.
  const minGuardHours = Math.ceil((bootstrapTimeoutMinutes / 60 + 0.5) * 2) / 2;
  if (maxHours > 0 && maxHours < minGuardHours) {
    problems.push(invalid('maxHours', maxHours,
      `the spend guard would stop the GPU nodes before they finish bootstrapping (bootstrapTimeoutMinutes=` +
      `${bootstrapTimeoutMinutes}); use 0 (off) or at least ${minGuardHours}`));
  }
  const stackName = read.string('stackName', 'P5RayKvCluster', /^[A-Za-z][A-Za-z0-9-]{0,99}$/, 'a CloudFormation stack name: a letter, then letters, digits or -');

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    stackName, region, availabilityZone, gpuInstanceType, gpuNodes, headInstanceType, efaLayout, amiParameter,
    rootVolumeGiB, model, servedModelName, maxModelLen, tensorParallelSize, prefillReplicas, decodeReplicas,
    nixlBackend, lmcacheChunkSize, lmcacheCpuGbPerRank, lmcacheDiskGb, capacityReservationId, capacityBlock,
    placementGroupName, maxHours, budgetEmail, vpcId, subnetId, hfTokenSecretName, bootstrapTimeoutMinutes,
  };
}

/** The GPU catalog entry of a validated configuration. */
export function gpuSpec(config: ClusterConfig): GpuInstanceSpec {
  const spec = gpuInstance(config.gpuInstanceType);
  if (!spec) throw new Error(`gpuInstanceType ${config.gpuInstanceType} passed validation but is not in the catalog`);
  return spec;
}

/** Whether the Ray head runs on its own CPU instance (true) or on the first GPU node. */
export function hasSeparateHead(config: ClusterConfig): boolean {
  return config.headInstanceType !== 'none' && cpuInstance(config.headInstanceType) !== undefined;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** Reads one raw value at a time, coercing CLI strings, and records a problem instead of throwing. */
class Reader {
  constructor(private readonly raw: RawConfig, private readonly problems: string[]) {}

  has(key: string): boolean {
    return this.raw[key] !== undefined && this.raw[key] !== null;
  }

  string(key: string, fallback: string, pattern: RegExp, allowed: string): string {
    return this.optionalString(key, pattern, allowed) ?? fallback;
  }

  optionalString(key: string, pattern: RegExp, allowed: string): string | undefined {
    if (!this.has(key)) return undefined;
    const value = this.raw[key];
    if (typeof value !== 'string' || !pattern.test(value)) {
      this.problems.push(invalid(key, value, `must be ${allowed}`));
      return undefined;
    }
    return value;
  }

  oneOf(key: string, fallback: string, allowed: readonly string[]): string {
    if (!this.has(key)) return fallback;
    const value = this.raw[key];
    if (typeof value !== 'string' || !allowed.includes(value)) {
      this.problems.push(invalid(key, value, `must be one of ${allowed.join(', ')}`));
      return fallback;
    }
    return value;
  }

  number(key: string, fallback: number, min: number, max: number): number {
    return this.numeric(key, fallback, min, max, false);
  }

  integer(key: string, fallback: number, min: number, max: number): number {
    return this.numeric(key, fallback, min, max, true);
  }

  boolean(key: string, fallback: boolean): boolean {
    if (!this.has(key)) return fallback;
    const value = this.raw[key];
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false') return false;
    this.problems.push(invalid(key, value, 'must be true or false'));
    return fallback;
  }

  private numeric(key: string, fallback: number, min: number, max: number, integer: boolean): number {
    if (!this.has(key)) return fallback;
    const value = this.raw[key];
    const parsed = typeof value === 'number' ? value
      : typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : NaN;
    const what = integer ? 'a whole number' : 'a number';
    if (!Number.isFinite(parsed) || (integer && !Number.isInteger(parsed)) || parsed < min || parsed > max) {
      this.problems.push(invalid(key, value, `must be ${what} from ${min} to ${max}`));
      return fallback;
    }
    return parsed;
  }
}
