import { CPU_INSTANCES, GPU_INSTANCES } from '../catalog/instances';
import { knownRegions } from '../catalog/regions';
import { DEFAULT_AMI_PARAMETER } from '../catalog/software';
import { LAYOUT_DEFAULTS, PROFILES } from '../study/layouts';
import { REQUEST_ROUTER_SETTINGS } from '../study/routers';
import type { ClusterConfig } from './cluster-config';

/**
 * The one table of settings: every key the app, the P5RayCluster construct and the preflight read, with its type,
 * default, bounds and one-line doc. The reader (cluster-config.ts), the settings table in the README, the
 * construct's generated props interface and `npm run preflight` all derive from it; cross-setting rules are in
 * rules.ts. Order matters: a derived default may read only settings above it.
 */
export type SettingType = 'string' | 'integer' | 'number' | 'boolean';

/**
 * `cluster` settings are props of the P5RayCluster construct. `app` settings steer only this repository's CDK app
 * (the stack's name and region, an existing network by id): a composing app passes its own stack and `vpc`.
 */
export type SettingScope = 'app' | 'cluster';

interface SpecBase<T> {
  readonly type: SettingType;
  readonly scope: SettingScope;
  /** One line, shown in the settings table and the construct's props docs. */
  readonly doc: string;
  /** The value when unset: a constant, or derived from the settings above it. Absent: optional, off when unset. */
  readonly default?: T | ((above: Partial<ClusterConfig>) => T);
  /** How a derived default reads in the docs. */
  readonly defaultText?: string;
  /** A rule on the value alone, beyond its type and bounds: what is allowed, or undefined when it is fine. */
  readonly check?: (value: T) => string | undefined;
}

export interface StringSpec extends SpecBase<string> {
  readonly type: 'string';
  readonly oneOf?: readonly string[];
  readonly pattern?: RegExp;
  /** What `pattern` accepts, in words: "an availability zone name such as us-east-1a". */
  readonly shape?: string;
}

export interface NumberSpec extends SpecBase<number> {
  readonly type: 'integer' | 'number';
  readonly min: number;
  readonly max: number;
  /** Why the bounds are what they are, appended to the range message. */
  readonly boundsWhy?: string;
}

export interface BooleanSpec extends SpecBase<boolean> {
  readonly type: 'boolean';
}

export type SettingSpec = StringSpec | NumberSpec | BooleanSpec;

type SpecFor<T> = T extends boolean ? BooleanSpec : T extends number ? NumberSpec : StringSpec;
export type SettingsTable = { readonly [K in keyof ClusterConfig]-?: SpecFor<NonNullable<ClusterConfig[K]>> };

const GPU_TYPES = Object.keys(GPU_INSTANCES);
const MAX_GPUS_PER_NODE = Math.max(...Object.values(GPU_INSTANCES).map((g) => g.gpus));
/** Most replicas any layout can have: TP 1 on every GPU of the largest cluster (gpuNodes max 16). */
const MAX_REPLICAS = 16 * MAX_GPUS_PER_NODE;
const ID = (prefix: string) => new RegExp(`^${prefix}-[0-9a-f]{8,17}$`);

export const EFA_LAYOUTS = ['efa-only', 'efa'] as const;
export const NIXL_BACKENDS = ['UCX', 'LIBFABRIC'] as const;

export const SETTINGS: SettingsTable = {
  stackName: {
    type: 'string', scope: 'app', default: 'P5RayKvCluster', pattern: /^[A-Za-z][A-Za-z0-9-]{0,99}$/,
    shape: 'a CloudFormation stack name: a letter, then letters, digits or -',
    doc: 'CloudFormation stack name; also the cost-allocation tag value',
  },
  region: {
    type: 'string', scope: 'app', default: 'us-east-1', pattern: /^[a-z]{2,4}(-[a-z]+)+-\d$/,
    shape: 'an AWS region name such as us-east-1',
    check: (region) => (knownRegions().includes(region) ? undefined
      : `is not an AWS region known to aws-cdk-lib (e.g. us-east-1, us-east-2, us-west-2)${didYouMean(region, knownRegions())}`),
    doc: 'deploy region; must offer gpuInstanceType (checked against an offline, dated region catalog)',
  },
  availabilityZone: {
    type: 'string', scope: 'cluster', default: (above) => `${above.region}a`, defaultText: '<region>a',
    pattern: /^[a-z]{2,4}(-[a-z]+)+-\d[a-z]$/, shape: 'an availability zone name such as us-east-1a',
    doc: 'AZ of the placement group, subnet and nodes; must belong to the region',
  },
  ignoreRegionCatalog: {
    type: 'boolean', scope: 'cluster', default: false,
    doc: 'deploy even where the offline region catalog says the instance type is not sold (when the catalog is stale; npm run preflight asks the live API)',
  },
  gpuInstanceType: {
    type: 'string', scope: 'cluster', default: 'p5.48xlarge', oneOf: GPU_TYPES,
    doc: `GPU node type, one of ${GPU_TYPES.join(', ')}`,
  },
  gpuNodes: {
    type: 'integer', scope: 'cluster', default: 2, min: 2, max: 16,
    boundsWhy: 'the PD configurations put prefill and decode on separate GPU nodes, so at least 2',
    doc: 'number of GPU nodes, 2–16 (the PD configurations put prefill and decode on separate nodes)',
  },
  headInstanceType: {
    type: 'string', scope: 'cluster', default: 'm7i.2xlarge', oneOf: [...Object.keys(CPU_INSTANCES), 'none'],
    doc: `Ray head node type, one of ${Object.keys(CPU_INSTANCES).join(', ')}, or none (head on the first GPU node)`,
  },
  efaLayout: {
    type: 'string', scope: 'cluster', default: 'efa-only', oneOf: EFA_LAYOUTS,
    doc: 'EFA interface layout: efa-only (AWS current: ENA primary + efa-only on every card) or efa (older: efa on every card)',
  },
  amiParameter: {
    type: 'string', scope: 'cluster', default: DEFAULT_AMI_PARAMETER, defaultText: 'DLAMI Base OSS Nvidia Driver GPU Ubuntu 24.04',
    pattern: /^\/[\w.\-/]+$/, shape: 'an SSM parameter name starting with /',
    // The bootstrap is Ubuntu 24.04 only (Python 3.12, apt, /dev/sda1 root) and the GPU types are x86_64: an AWS
    // public parameter for anything else would boot, bill, and fail minutes later.
    check: (name) => (name.startsWith('/aws/service/') && !(name.includes('/x86_64/') && name.includes('ubuntu-24.04'))
      ? `the node bootstrap supports x86_64 Ubuntu 24.04 AMIs only, e.g. ${DEFAULT_AMI_PARAMETER}` : undefined),
    doc: 'SSM parameter holding the AMI id, resolved when the cluster is created and again only when it or amiGeneration changes (a deploy never picks up a newer AMI on its own); AWS public parameters must be x86_64 Ubuntu 24.04 (what the bootstrap supports)',
  },
  amiGeneration: {
    type: 'integer', scope: 'cluster', default: 1, min: 1, max: 1_000_000,
    doc: 'raise it (e.g. 1 → 2) to resolve amiParameter again, to its newest AMI, and replace every node with that AMI; unchanged, the nodes keep the AMI they were created with',
  },
  rootVolumeGiB: {
    type: 'integer', scope: 'cluster', default: 300, min: 100, max: 16384,
    doc: 'encrypted gp3 root volume per node, GiB (100–16384)',
  },
  rootVolumeThroughputMiBps: {
    type: 'integer', scope: 'cluster', default: 1000, min: 125, max: 1000,
    boundsWhy: 'gp3 gives 125 MiB/s included and at most 1000 MiB/s',
    doc: 'provisioned gp3 throughput of every node\'s root volume, MiB/s (125–1000; IOPS follow at 4 per MiB/s, at least 3000): the venv (~12 GB) is written there during the bootstrap',
  },
  model: {
    type: 'string', scope: 'cluster', default: 'openai/gpt-oss-120b', pattern: /^[\w.-]+\/[\w.-]+$/,
    shape: 'a Hugging Face model id such as openai/gpt-oss-120b',
    doc: 'Hugging Face model id served',
  },
  servedModelName: {
    type: 'string', scope: 'cluster', default: 'gptoss', pattern: /^[\w.:-]{1,64}$/, shape: 'letters, digits, . _ : - (at most 64)',
    doc: 'model name clients send (the OpenAI `model` field)',
  },
  maxModelLen: {
    type: 'integer', scope: 'cluster', default: 16000, min: 256, max: 1_048_576,
    doc: "vLLM max_model_len; must hold every benchmark workload's input + output tokens",
  },
  profile: {
    type: 'string', scope: 'cluster', default: 'full-cluster', oneOf: PROFILES,
    doc: 'layouts of the serve configurations: full-cluster (every configuration uses every GPU, so all compare at equal GPU count) or reference (the exact layouts of anyscale/ray-serve-llm-perf-examples pd+kv_offloading: 1 × TP4 collocated, 1P1D TP4; its table)',
  },
  tensorParallelSize: {
    type: 'integer', scope: 'cluster', default: LAYOUT_DEFAULTS.tensorParallelSize, defaultText: '4 (the reference example\'s)',
    min: 1, max: MAX_GPUS_PER_NODE,
    doc: 'tensor parallelism of each collocated replica, and the default of both PD sides; must divide the GPUs per node (not with profile=reference)',
  },
  collocatedReplicas: {
    type: 'integer', scope: 'cluster', default: LAYOUT_DEFAULTS.collocatedReplicas,
    defaultText: 'full-cluster: gpuNodes × GPUs per node ÷ tensorParallelSize; reference: 1', min: 1, max: MAX_REPLICAS,
    doc: 'replicas of the collocated configurations, spread over the GPU nodes, each on one node (not with profile=reference)',
  },
  prefillTensorParallelSize: {
    type: 'integer', scope: 'cluster', default: LAYOUT_DEFAULTS.prefillTensorParallelSize, defaultText: 'tensorParallelSize',
    min: 1, max: MAX_GPUS_PER_NODE,
    doc: 'tensor parallelism of each prefill replica; must divide the GPUs per node (not with profile=reference)',
  },
  prefillReplicas: {
    type: 'integer', scope: 'cluster', default: LAYOUT_DEFAULTS.prefillReplicas,
    defaultText: 'full-cluster: the replicas that fill half the GPU nodes (rounded down); reference: 1', min: 1, max: MAX_REPLICAS,
    doc: 'prefill replicas of the PD configurations; prefill and decode never share a node (not with profile=reference)',
  },
  decodeTensorParallelSize: {
    type: 'integer', scope: 'cluster', default: LAYOUT_DEFAULTS.decodeTensorParallelSize, defaultText: 'tensorParallelSize',
    min: 1, max: MAX_GPUS_PER_NODE,
    doc: 'tensor parallelism of each decode replica; must divide the GPUs per node (not with profile=reference)',
  },
  decodeReplicas: {
    type: 'integer', scope: 'cluster', default: LAYOUT_DEFAULTS.decodeReplicas,
    defaultText: 'full-cluster: the replicas that fill the other GPU nodes; reference: 1', min: 1, max: MAX_REPLICAS,
    doc: 'decode replicas of the PD configurations, on GPU nodes that run no prefill (not with profile=reference)',
  },
  requestRouter: {
    type: 'string', scope: 'cluster', default: 'auto', oneOf: REQUEST_ROUTER_SETTINGS,
    doc: 'Ray Serve request router of the engine deployments: auto (prefix-aware for the prefix-reuse workload, power-of-two for random), prefix-aware (Ray Serve LLM PrefixCacheAffinityRouter) or power-of-two (Serve\'s default); run_all.sh --router overrides it per run',
  },
  nixlBackend: {
    type: 'string', scope: 'cluster', default: 'LIBFABRIC', oneOf: NIXL_BACKENDS,
    doc: 'NIXL transport over EFA: LIBFABRIC or UCX',
  },
  lmcacheChunkSize: {
    type: 'integer', scope: 'cluster', default: 256, min: 16, max: 8192,
    doc: 'LMCache chunk size, tokens (16–8192)',
  },
  lmcacheCpuGbPerRank: {
    type: 'number', scope: 'cluster', default: 100, min: 1, max: 4096,
    doc: 'LMCache pinned CPU memory per TP rank, GB (× ranks per node must fit the node RAM with 25% headroom)',
  },
  lmcacheDiskGb: {
    type: 'number', scope: 'cluster', default: 0, min: 0, max: 1_000_000,
    doc: 'LMCache disk tier per rank on the NVMe instance store, GB (0 = off)',
  },
  capacityReservationId: {
    type: 'string', scope: 'cluster', pattern: ID('cr'), shape: 'a capacity reservation id: cr- and 8–17 hex digits',
    doc: 'On-Demand Capacity Reservation or Capacity Block id (cr-…) for the GPU nodes',
  },
  capacityBlock: {
    type: 'boolean', scope: 'cluster', default: false,
    doc: 'launch the GPU nodes into a Capacity Block (needs capacityReservationId)',
  },
  placementGroupName: {
    type: 'string', scope: 'cluster', pattern: /^[A-Za-z0-9_.-]{1,255}$/, shape: 'a placement group name (letters, digits, _ . -)',
    doc: 'existing cluster placement group for the GPU nodes instead of a new one: required when the ODCR was created in a placement group (not with capacityBlock)',
  },
  maxHours: {
    type: 'number', scope: 'cluster', default: 8, min: 0, max: 24 * 30,
    boundsWhy: '0 turns the spend guard off; otherwise at least the bootstrap timeout + 30 min',
    doc: 'spend guard: stop the GPU nodes this many hours after they start (at creation, and again after every start: a restart re-arms it; 0 = off, warned about; else at least the bootstrap timeout + 30 min)',
  },
  budgetEmail: {
    type: 'string', scope: 'cluster', pattern: /^[^@\s]+@[^@\s]+\.[^@\s]+$/, shape: 'an e-mail address',
    doc: 'e-mail address for an AWS Budgets alert on this stack\'s cost-allocation tag',
  },
  vpcId: {
    type: 'string', scope: 'app', pattern: ID('vpc'), shape: 'a VPC id: vpc- and 8–17 hex digits',
    doc: 'existing VPC to use instead of creating one (needs subnetId)',
  },
  subnetId: {
    type: 'string', scope: 'app', pattern: ID('subnet'), shape: 'a subnet id: subnet- and 8–17 hex digits',
    doc: 'private subnet of vpcId in availabilityZone, with NAT egress (needs vpcId)',
  },
  hfTokenSecretName: {
    type: 'string', scope: 'cluster', pattern: /^[\w/+=.@-]{1,512}$/, shape: 'a Secrets Manager secret name',
    doc: 'Secrets Manager secret holding a Hugging Face token, for gated models',
  },
  bootstrapTimeoutMinutes: {
    type: 'integer', scope: 'cluster', default: 90, min: 20, max: 240,
    doc: 'how long CloudFormation waits for every node to report ready before rolling back (20–240)',
  },
  deployCache: {
    type: 'boolean', scope: 'cluster', default: false,
    doc: 'restore the venv, LMCache wheel and model weights from an S3 cache that outlives the stack, and fill it after the first successful boot (off: nothing of the cluster outlives cdk destroy but the copies of its assets in the CDK bootstrap bucket)',
  },
  cacheBucketName: {
    type: 'string', scope: 'cluster', pattern: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, shape: 'an S3 bucket name (3–63 lower-case letters, digits, . -)',
    doc: 'bucket for deployCache (needs deployCache=true), in the stack\'s region (npm run preflight checks it); unset: the bucket of the separate P5RayDeployCache stack, p5-ray-cache-<account>-<region>',
  },
};

export const SETTING_KEYS = Object.keys(SETTINGS) as ReadonlyArray<keyof ClusterConfig>;

/** The spec of a key, typed loosely for generic readers. */
export function settingSpec(key: string): SettingSpec | undefined {
  return Object.prototype.hasOwnProperty.call(SETTINGS, key) ? (SETTINGS as Record<string, SettingSpec>)[key] : undefined;
}

/** How a setting's default reads in docs: its value, its derivation, or undefined for an optional setting. */
export function defaultText(spec: SettingSpec): string | undefined {
  if (spec.defaultText !== undefined) return spec.defaultText;
  if (spec.default === undefined || typeof spec.default === 'function') return undefined;
  return String(spec.default);
}

/** The candidate a small edit away from `value` (a typo), if any. */
export function closest(value: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(value.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  const tolerance = Math.max(1, Math.min(3, Math.floor(value.length / 4)));
  return bestDistance <= tolerance ? best : undefined;
}

/** `; did you mean X?` for a typo of one of the candidates, else empty. */
export function didYouMean(value: string, candidates: readonly string[]): string {
  const match = closest(value, candidates);
  return match === undefined ? '' : `; did you mean ${match}?`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
