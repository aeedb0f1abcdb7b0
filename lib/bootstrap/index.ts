import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { gzipSync } from 'zlib';
import { BUCKET_PREFIXES, DEPLOY_CACHE_PREFIX, NODE_PATHS } from '../catalog/paths';
import { PORTS } from '../catalog/ports';
import { SOFTWARE } from '../catalog/software';
import type { NodeIdentity } from '../compute/cluster-nodes';
import { expectedEfaDevices } from '../compute/efa-interfaces';
import { ClusterConfig, gpuSpec, hasSeparateHead } from '../config/cluster-config';
import { monitoringAssetFiles } from '../monitoring';

/**
 * What one node's user data needs. Values marked "token" may be unresolved CDK tokens: they are only ever
 * written into the user data verbatim, never inspected.
 */
export interface NodeBootstrapContext extends NodeIdentity {
  readonly config: ClusterConfig;
  /** Token: the artifacts bucket name. */
  readonly bucketName: string;
  /** Token: the presigned URL of the AWS::CloudFormation::WaitConditionHandle this node signals. */
  readonly signalUrl: string;
  /** Token: CloudWatch Logs group for bootstrap progress (the node creates its own stream in it). */
  readonly logGroupName: string;
  readonly stackName: string;
  /**
   * The node generation this node belongs to (cluster-nodes.ts): it scopes the head's address in the bucket, so a
   * worker of a new generation never joins the head of one that is going away.
   */
  readonly nodeGeneration: string;
  /**
   * The SSM parameter holding the `s3://…` URL of the current serve bundle (the stack's CDK asset). Its name never
   * changes; its value does with every deploy that changes the bundle, without touching this user data.
   */
  readonly serveBundleParameter: string;
  /** Token: `s3://…` URL of the zip of BOOTSTRAP_ASSET_FILES (the stack's CDK asset), fetched by every node. */
  readonly pythonFilesUrl: string;
  /** Token: ARN of the Hugging Face token secret, when `config.hfTokenSecretName` is set. */
  readonly hfTokenSecretArn?: string;
  /** Token: the deploy-cache bucket, exactly when `config.deployCache` is on. */
  readonly cacheBucketName?: string;
}

/** EC2's limit on raw user data (before base64). */
export const USER_DATA_LIMIT_BYTES = 16_384;

/**
 * How long before ClusterReady's timeout a node gives up on its own, counted from the instance's launch: room for
 * the failure signal (curl retries up to 8 × 35 s) to reach CloudFormation first.
 */
export const BOOTSTRAP_DEADLINE_MARGIN_SECONDS = 300;

/**
 * The node scripts embedded in the user data, in lib/bootstrap/scripts: what runs before the node can read S3.
 * bootstrap-node.sh is the entry point and sources the others.
 */
export const BOOTSTRAP_SCRIPTS = ['lib.sh', 'steps.sh', 'bootstrap-node.sh'] as const;
export const BOOTSTRAP_SCRIPTS_DIR = join(__dirname, 'scripts');
export type BootstrapScript = (typeof BOOTSTRAP_SCRIPTS)[number];
/**
 * The later steps (background jobs, deploy cache, checks, Ray, timing), in lib/bootstrap/scripts: shipped in the
 * asset with the Python, sourced once the node has fetched it. Embedded too, they would push the user data past
 * EC2's 16 KB.
 */
export const BOOTSTRAP_ASSET_SCRIPTS = ['asset-steps.sh', 'stack-install.sh', 'monitoring-steps.sh', 'efa-counters.sh'] as const;
/** The node-side Python checks and helpers, in lib/bootstrap/python, run with the venv's or the system's Python. */
export const BOOTSTRAP_PYTHON = [
  'verify_stack.py', 'nixl_probe.py', 'node_facts.py', 'download_model.py', 'read_cluster.py', 'deploy_cache.py', 'timing.py',
  'monitoring.py',
] as const;
export const BOOTSTRAP_PYTHON_DIR = join(__dirname, 'python');
/** Every file of the bootstrap asset, which every node fetches (step "fetch the node's Python checks from S3"). */
export const BOOTSTRAP_ASSET_FILES: readonly string[] = [
  ...BOOTSTRAP_PYTHON, ...BOOTSTRAP_ASSET_SCRIPTS, ...Object.keys(monitoringAssetFiles()),
];

/**
 * A folder holding exactly BOOTSTRAP_ASSET_FILES, for the stack's CDK asset: no caches or lint config beside them
 * that would change its hash (and so the user data, which names it).
 */
export function stageBootstrapAsset(): string {
  const dir = mkdtempSync(join(tmpdir(), 'p5-bootstrap-asset-'));
  for (const f of BOOTSTRAP_PYTHON) copyFileSync(join(BOOTSTRAP_PYTHON_DIR, f), join(dir, f));
  for (const f of BOOTSTRAP_ASSET_SCRIPTS) copyFileSync(join(BOOTSTRAP_SCRIPTS_DIR, f), join(dir, f));
  // The observability stack's configuration, rendered from lib/monitoring (Prometheus, Grafana, dcgm-exporter).
  for (const [f, text] of Object.entries(monitoringAssetFiles())) writeFileSync(join(dir, f), text);
  return dir;
}

/** Where the node files are unpacked on the node. */
export const NODE_SCRIPT_DIR = `${NODE_PATHS.root}/bin`;

/**
 * The Ray head of a node generation publishes `{"ip","port","instanceId","dashboardPort"}` here; its GPU workers
 * poll it. While CloudFormation replaces the nodes, the old head's file stays under the old generation.
 */
export function headAddressKey(nodeGeneration: string): string {
  return `${BUCKET_PREFIXES.cluster}${nodeGeneration}/head.json`;
}

const HEREDOC_END = 'P5RAY_END';

/**
 * The settings written to NODE_PATHS.clusterEnv (shell-sourceable) for one node, in a stable order. Everything
 * the scripts know about the cluster comes from here, so no version, path or count is repeated in them.
 */
export function bootstrapSettings(ctx: NodeBootstrapContext): ReadonlyArray<readonly [string, string]> {
  validateContext(ctx);
  const { config } = ctx;
  const gpu = gpuSpec(config);
  const onGpu = ctx.role === 'gpu';
  return [
    ['STACK_NAME', ctx.stackName],
    ['REGION', config.region],
    ['ROLE', ctx.role],
    ['GPU_INDEX', String(ctx.gpuIndex)],
    ['IS_RAY_HEAD', ctx.isRayHead ? '1' : '0'],
    ['BUCKET', ctx.bucketName],
    ['LOG_GROUP', ctx.logGroupName],
    ['HF_TOKEN_SECRET_ARN', ctx.hfTokenSecretArn ?? ''],
    ['MODEL', config.model],
    ['GPU_INSTANCE_TYPE', config.gpuInstanceType],
    ['GPU_MODEL', gpu.gpuModel],
    ['CUDA_ARCH', gpu.cudaArch],
    ['GPUS_PER_NODE', String(gpu.gpus)],
    ['EXPECTED_GPUS', String(onGpu ? gpu.gpus : 0)],
    // From the interfaces the launch template actually attaches, not the type's maximum.
    ['EXPECTED_EFA', String(onGpu ? expectedEfaDevices(gpu, config.efaLayout) : 0)],
    ['GPU_NODES', String(config.gpuNodes)],
    ['CLUSTER_GPUS', String(config.gpuNodes * gpu.gpus)],
    ['NIXL_BACKEND', config.nixlBackend],
    ['RAY_VERSION', SOFTWARE.ray],
    ['VLLM_VERSION', SOFTWARE.vllm],
    ['NIXL_VERSION', SOFTWARE.nixl],
    ['LMCACHE_VERSION', SOFTWARE.lmcache],
    ['PYTHON_VERSION', SOFTWARE.python],
    ['TORCH_VERSION', SOFTWARE.torch],
    ['LMCACHE_BUILD_REQUIRES', SOFTWARE.lmcacheBuildRequires.join(' ')],
    ['HF_HUB_VERSION', SOFTWARE.huggingfaceHub],
    ['HF_XET_VERSION', SOFTWARE.hfXet],
    ['RAY_GCS_PORT', String(PORTS.rayGcs)],
    ['RAY_DASHBOARD_PORT', String(PORTS.rayDashboard)],
    ['RAY_CLIENT_PORT', String(PORTS.rayClient)],
    ['RAY_METRICS_PORT', String(PORTS.rayMetrics)],
    ['NODE_ROOT', NODE_PATHS.root],
    ['VENV', NODE_PATHS.venv],
    ['UV_CACHE', NODE_PATHS.uvCache],
    ['SERVE_BUNDLE', NODE_PATHS.serveBundle],
    ['NVME', NODE_PATHS.nvme],
    ['HF_DIR', NODE_PATHS.hfHome],
    ['BOOTSTRAP_LOG', NODE_PATHS.bootstrapLog],
    ['NODE_GENERATION', ctx.nodeGeneration],
    ['HEAD_KEY', headAddressKey(ctx.nodeGeneration)],
    ['SERVE_PREFIX', BUCKET_PREFIXES.serve],
    ['SERVE_BUNDLE_PARAMETER', ctx.serveBundleParameter],
    ['PYTHON_FILES_URL', ctx.pythonFilesUrl],
    ['PYTHON_FILES', BOOTSTRAP_ASSET_FILES.join(' ')],
    ['BOOTSTRAP_TIMEOUT_SECONDS', String(config.bootstrapTimeoutMinutes * 60)],
    ['DEADLINE_MARGIN_SECONDS', String(BOOTSTRAP_DEADLINE_MARGIN_SECONDS)],
    ['NODE_FACTS', NODE_PATHS.nodeFacts],
    ['NODE_FACTS_PREFIX', BUCKET_PREFIXES.nodeFacts],
    ['CACHE_BUCKET', ctx.cacheBucketName ?? ''],
    ['CACHE_PREFIX', DEPLOY_CACHE_PREFIX],
    // Last: by far the longest value, and a credential of sorts (cluster.env is root-only).
    ['SIGNAL_URL', ctx.signalUrl],
  ];
}

/**
 * The EC2 user data of one node: a bash script that writes NODE_PATHS.clusterEnv, unpacks the node scripts
 * (gzip+base64, to stay far under 16 KB with a ~1 KB presigned URL) and runs bootstrap-node.sh. May contain CDK
 * tokens; wrap it in `Fn.base64`.
 */
export function renderUserData(ctx: NodeBootstrapContext): string {
  const settings = bootstrapSettings(ctx)
    .map(([key, value]) => `${key}=${shellQuote(value)}`)
    .join('\n');
  const envFile = NODE_PATHS.clusterEnv;
  const envDir = envFile.slice(0, envFile.lastIndexOf('/'));
  const unpack = [
    // One gzip stream for every file compresses better than one per file; awk splits it at the marker lines.
    `base64 -d <<'${HEREDOC_END}' | gunzip | awk -v d="$R${NODE_SCRIPT_DIR}" '/^${FILE_MARKER}/{f=d"/"$2;next}{print>f}'`,
    packedNodeFiles(),
    HEREDOC_END,
  ].join('\n');
  const fallbackSignal = '{\\"Status\\":\\"FAILURE\\",\\"Reason\\":\\"user data failed at line $LINENO, ' +
    'before the bootstrap script started\\",\\"UniqueId\\":\\"$ROLE-$GPU_INDEX\\",\\"Data\\":\\"\\"}';
  return [
    '#!/bin/bash',
    `# ${ctx.role} ${ctx.gpuIndex}${ctx.isRayHead ? ' (Ray head)' : ''}: node bootstrap generated by lib/bootstrap,`,
    '# see README "Node bootstrap". The blob is lib/bootstrap/scripts/*.sh without comment lines, gzip+base64.',
    `# Progress: ${NODE_PATHS.bootstrapLog} and the CloudWatch log group in ${envFile}.`,
    '# shellcheck disable=SC2154  # ROLE, GPU_INDEX, SIGNAL_URL are set by the sourced settings',
    'set -euo pipefail',
    '# Empty on a node; tests set it to run this whole script in a temp dir.',
    'R="${P5RAY_ROOT:-}"',
    `mkdir -p "$R${envDir}" "$R${NODE_SCRIPT_DIR}"`,
    `(umask 077 && cat >"$R${envFile}") <<'${HEREDOC_END}'`,
    settings,
    HEREDOC_END,
    '# shellcheck source=/dev/null',
    `. "$R${envFile}"`,
    '# Until the bootstrap script has its own traps, a failure here still rolls the stack back at once.',
    `trap 'curl -fsS -X PUT -H "Content-Type:" --data-binary "${fallbackSignal}" "$SIGNAL_URL"' ERR`,
    unpack,
    `exec bash "$R${NODE_SCRIPT_DIR}/bootstrap-node.sh" "$R${envFile}"`,
    '',
  ].join('\n');
}

/** Marks the start of each file in the packed stream (the rest of the line is the file name). */
const FILE_MARKER = '#P5RAY_FILE ';

/** A script as embedded: full-line comments and blank lines dropped (they stay in the source for reviewers). */
export function embeddedScriptText(name: BootstrapScript): string {
  const source = readFileSync(join(BOOTSTRAP_SCRIPTS_DIR, name), 'utf8');
  const where = `lib/bootstrap/scripts/${name}`;
  const lines = source.split('\n').filter((line, i) => {
    if (i === 0 && line.startsWith('#!')) return true;
    return line.trim() !== '' && !/^\s*#/.test(line);
  });
  const text = `${lines.join('\n')}\n`;
  for (const line of text.split('\n')) {
    if (line === HEREDOC_END || line.startsWith(FILE_MARKER)) {
      throw new Error(`${where} contains the line ${line}, which the user data uses as a delimiter`);
    }
  }
  return text;
}

/** Every script, each after its marker line, in one text: what the user data unpacks into NODE_SCRIPT_DIR. */
export function nodeFilesStream(): string {
  return BOOTSTRAP_SCRIPTS.map((name) => `${FILE_MARKER}${name}\n${embeddedScriptText(name)}`).join('');
}

/**
 * gzip with a fixed header. The header's OS byte is the only platform-dependent part of zlib's output (3 = Unix,
 * 19 = macOS in recent zlib): fix it, so a synth on macOS and one on Linux produce the same user data (a
 * user-data change stops and starts the GPU nodes). `gzip` is zlib's, replaceable to test just that.
 */
export function portableGzip(data: Buffer, gzip: (data: Buffer) => Buffer = (d) => gzipSync(d, { level: 9 })): Buffer {
  const gz = gzip(data);
  gz[9] = 3;
  return gz;
}

function packedNodeFiles(): string {
  return portableGzip(Buffer.from(nodeFilesStream(), 'utf8')).toString('base64').replace(/(.{76})/g, '$1\n').replace(/\n$/, '');
}

function validateContext(ctx: NodeBootstrapContext): void {
  const { config, role, gpuIndex, isRayHead } = ctx;
  const separateHead = hasSeparateHead(config);
  if ((ctx.hfTokenSecretArn === undefined) !== (config.hfTokenSecretName === undefined)) {
    throw new Error('bootstrap: hfTokenSecretArn must be given exactly when hfTokenSecretName is set');
  }
  if ((ctx.cacheBucketName === undefined) === config.deployCache) {
    throw new Error('bootstrap: cacheBucketName must be given exactly when deployCache is on');
  }
  if (role === 'head') {
    if (!separateHead) {
      throw new Error(`bootstrap: role=head but headInstanceType=${config.headInstanceType}: the Ray head runs on GPU node 0`);
    }
    if (!isRayHead || gpuIndex !== 0) {
      throw new Error(`bootstrap: the head node needs isRayHead=true and gpuIndex=0 (got ${isRayHead}, ${gpuIndex})`);
    }
    return;
  }
  if (!Number.isInteger(gpuIndex) || gpuIndex < 0 || gpuIndex >= config.gpuNodes) {
    throw new Error(`bootstrap: gpuIndex=${gpuIndex} must be 0..${config.gpuNodes - 1} (gpuNodes=${config.gpuNodes})`);
  }
  const expectHead = !separateHead && gpuIndex === 0;
  if (isRayHead !== expectHead) {
    throw new Error(`bootstrap: GPU node ${gpuIndex} has isRayHead=${isRayHead}, expected ${expectHead} ` +
      `with headInstanceType=${config.headInstanceType}`);
  }
}

/** Single-quotes a value for the shell; CDK token placeholders contain no quotes and pass through unchanged. */
function shellQuote(value: string): string {
  if (/[\n\r\0]/.test(value)) throw new Error(`bootstrap: a setting contains a line break: ${JSON.stringify(value)}`);
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
