import { readFileSync } from 'fs';
import { join } from 'path';
import { BOOTSTRAP_PYTHON_DIR, BOOTSTRAP_SCRIPTS_DIR } from '../bootstrap';
import { PORTS } from '../catalog/ports';
import { SOFTWARE } from '../catalog/software';
import { ClusterConfig, parseClusterConfig } from '../config/cluster-config';
import { ServeFile, ServeTarget, renderServeBundle } from '../serve';
import { CollocatedLayout, PdLayout } from '../study/layouts';
import { RehearsalSettings, TINY_MODEL, TINY_MODEL_KV_CACHE_MIB, rehearsalProblems } from './settings';

export * from './settings';

/** The rehearsal's own files (the driver, the tiny model's maker), in ./assets. */
export const REHEARSAL_ASSETS_DIR = join(__dirname, 'assets');

/** The node's own checks and install code, run unchanged by the rehearsal. */
const NODE_SCRIPTS = ['stack-install.sh'] as const;
const NODE_PYTHON = ['verify_stack.py', 'nixl_probe.py', 'node_facts.py'] as const;
const REHEARSAL_FILES = ['rehearse.sh', 'make_tiny_model.py', 'rehearsal_record.py'] as const;

/** Where the rehearsal keeps things under its folder. */
export function rehearsalPaths(s: Pick<RehearsalSettings, 'dir' | 'venv'>) {
  return {
    serveBundle: `${s.dir}/serve`,
    venv: s.venv ?? `${s.dir}/venv`,
    results: `${s.dir}/results`,
    clusterEnv: `${s.dir}/rehearsal.env`,
    hfHome: `${s.dir}/hf`,
    lmcacheDisk: `${s.dir}/lmcache/`,
    node: `${s.dir}/node`,
    model: `${s.dir}/model/${TINY_MODEL.name}`,
  } as const;
}

/**
 * The layouts on one machine: collocated, one replica per TP group of GPUs; PD, prefill on the first half of the
 * replicas' GPUs and decode on the rest, or, with fewer than two TP groups, both sides sharing the GPU(s) (builder.py).
 */
export function rehearsalLayouts(s: Pick<RehearsalSettings, 'gpus' | 'tensorParallelSize'>): { collocated: CollocatedLayout; pd: PdLayout } {
  const tp = s.tensorParallelSize;
  const groups = Math.floor(s.gpus / tp);
  const prefill = Math.max(1, Math.floor(groups / 2));
  const decode = Math.max(1, groups - prefill);
  return {
    collocated: { kind: 'collocated', engine: { replicas: groups, tensorParallelSize: tp } },
    pd: { kind: 'pd', prefill: { replicas: prefill, tensorParallelSize: tp }, decode: { replicas: decode, tensorParallelSize: tp } },
  };
}

/** Whether prefill and decode share GPUs (fewer than two TP groups of GPUs). */
export function pdSharesGpus(s: Pick<RehearsalSettings, 'gpus' | 'tensorParallelSize'>): boolean {
  return Math.floor(s.gpus / s.tensorParallelSize) < 2;
}

/**
 * The settings the serve bundle reads, as a cluster configuration: the schema's defaults with the rehearsal's model,
 * layouts and LMCache size. The instance, network and AWS settings keep their defaults and are never read: the
 * machine is described by the serve target instead.
 */
export function rehearsalClusterConfig(s: RehearsalSettings): ClusterConfig {
  const { collocated, pd } = rehearsalLayouts(s);
  return {
    ...parseClusterConfig({}),
    model: s.model === TINY_MODEL.name ? rehearsalPaths(s).model : s.model,
    servedModelName: s.servedModelName,
    maxModelLen: s.maxModelLen,
    tensorParallelSize: collocated.engine.tensorParallelSize,
    collocatedReplicas: collocated.engine.replicas,
    prefillReplicas: pd.prefill.replicas,
    prefillTensorParallelSize: pd.prefill.tensorParallelSize,
    decodeReplicas: pd.decode.replicas,
    decodeTensorParallelSize: pd.decode.tensorParallelSize,
    requestRouter: 'auto',
    nixlBackend: s.nixlBackend,
    lmcacheCpuGbPerRank: s.lmcacheCpuGbPerRank,
    lmcacheDiskGb: 0,
    gpuNodes: 1,
  };
}

/** A local path: the engines must not reach for the Hub, which a rehearsal machine may not reach at all. */
function isLocalModel(s: RehearsalSettings): boolean {
  return s.model === TINY_MODEL.name || s.model.startsWith('/');
}

export function rehearsalTarget(s: RehearsalSettings): ServeTarget {
  const paths = rehearsalPaths(s);
  const kvMiB = s.kvCacheMiB ?? (s.model === TINY_MODEL.name ? TINY_MODEL_KV_CACHE_MIB : undefined);
  return {
    kind: 'rehearsal',
    paths: {
      serveBundle: paths.serveBundle, venv: paths.venv, results: paths.results, clusterEnv: paths.clusterEnv,
      hfHome: paths.hfHome, lmcacheDisk: paths.lmcacheDisk,
    },
    machine: {
      gpuInstanceType: `rehearsal on ${s.gpus} x ${s.gpuName} (one machine, not an EC2 instance type)`,
      gpuNodes: 1,
      gpusPerNode: s.gpus,
      clusterGpus: s.gpus,
      region: 'local',
    },
    pdPlacement: 'one-node',
    workloads: s.workloads,
    promptsPerConcurrency: s.promptsPerConcurrency,
    requestsPerPrefix: s.requestsPerPrefix,
    concurrencies: s.concurrencies,
    prometheusUrl: `http://127.0.0.1:${PORTS.prometheus}`,
    // The OpenAI front end: a machine's CPUs are few, and each ingress replica holds one.
    ingressReplicas: 2,
    engineKwargs: kvMiB === undefined ? {} : { kv_cache_memory_bytes: kvMiB * 2 ** 20 },
    engineEnv: isLocalModel(s) ? { HF_HUB_OFFLINE: '1' } : {},
    smokeExpect: s.model === TINY_MODEL.name ? '' : 'paris',
    // A rehearsal point is seconds long (the tiny model, short workloads): ten minutes means it stalled.
    benchTimeoutSeconds: 600,
  };
}

/** The values rehearse.sh reads (rehearsal.env, shell-sourceable), in a stable order. */
export function rehearsalEnv(s: RehearsalSettings): ReadonlyArray<readonly [string, string]> {
  const paths = rehearsalPaths(s);
  const config = rehearsalClusterConfig(s);
  return [
    ['REHEARSAL_DIR', s.dir],
    ['GPUS', String(s.gpus)],
    ['GPU_NAME', s.gpuName],
    ['MODEL', config.model],
    ['MAKE_TINY_MODEL', s.model === TINY_MODEL.name ? '1' : '0'],
    ['TINY_MODEL', JSON.stringify(TINY_MODEL)],
    ['SERVED_MODEL_NAME', s.servedModelName],
    ['VENV', paths.venv],
    ['VENV_GIVEN', s.venv === undefined ? '0' : '1'],
    ['WHEELHOUSE', s.wheelhouse ?? ''],
    ['PROMETHEUS_BIN', s.prometheus ?? ''],
    ['NODE_DIR', paths.node],
    ['SERVE_BUNDLE', paths.serveBundle],
    ['RESULTS_DIR', paths.results],
    ['HF_DIR', paths.hfHome],
    ['NIXL_BACKEND', s.nixlBackend],
    ['PYTHON_VERSION', SOFTWARE.python],
    ['RAY_VERSION', SOFTWARE.ray],
    ['VLLM_VERSION', SOFTWARE.vllm],
    ['NIXL_VERSION', SOFTWARE.nixl],
    ['LMCACHE_VERSION', SOFTWARE.lmcache],
    ['TORCH_VERSION', SOFTWARE.torch],
    ['LMCACHE_BUILD_REQUIRES', SOFTWARE.lmcacheBuildRequires.join(' ')],
    ['RAY_GCS_PORT', String(PORTS.rayGcs)],
    ['RAY_DASHBOARD_PORT', String(PORTS.rayDashboard)],
    ['RAY_METRICS_PORT', String(PORTS.rayMetrics)],
    ['PROMETHEUS_PORT', String(PORTS.prometheus)],
    ['SERVE_PORT', String(PORTS.serveHttp)],
    ['PD_SHARES_GPUS', pdSharesGpus(s) ? '1' : '0'],
  ];
}

/** Everything a rehearsal needs on the GPU machine, as files relative to its folder. */
export function renderRehearsal(s: RehearsalSettings, provenance: Readonly<Record<string, unknown>>): ServeFile[] {
  const problems = rehearsalProblems(s);
  if (problems.length > 0) throw new RehearsalSettingsError(problems);
  const asset = (dir: string, name: string) => readFileSync(join(dir, name), 'utf8');
  const env = rehearsalEnv(s).map(([k, v]) => `${k}=${shellQuote(v)}\n`).join('');
  return [
    { path: 'rehearsal.env', content: env, executable: false },
    { path: 'provenance.json', content: `${JSON.stringify(provenance, null, 2)}\n`, executable: false },
    ...REHEARSAL_FILES.map((f) => ({ path: f === 'rehearse.sh' ? f : `node/${f}`, content: asset(REHEARSAL_ASSETS_DIR, f), executable: f.endsWith('.sh') })),
    ...NODE_SCRIPTS.map((f) => ({ path: `node/${f}`, content: asset(BOOTSTRAP_SCRIPTS_DIR, f), executable: false })),
    ...NODE_PYTHON.map((f) => ({ path: `node/${f}`, content: asset(BOOTSTRAP_PYTHON_DIR, f), executable: false })),
    { path: 'node/prometheus.yml', content: rehearsalPrometheusConfig(s), executable: false },
    ...renderServeBundle(rehearsalClusterConfig(s), rehearsalTarget(s)).map((f) => ({ ...f, path: `serve/${f.path}` })),
  ];
}

/**
 * Prometheus for the evidence: Ray's metrics agent on this machine (from Ray's own service-discovery file, as on the
 * head), labelled node=gpu-0 like the cluster's GPU node 0, every 5 s.
 */
export function rehearsalPrometheusConfig(s: RehearsalSettings): string {
  return [
    '# Prometheus for a rehearsal (lib/rehearsal): scrapes Ray\'s metrics agent, whose address Ray writes into its',
    '# service-discovery file, as the Ray head of the cluster does.',
    'global:',
    '  scrape_interval: 5s',
    '  evaluation_interval: 5s',
    'scrape_configs:',
    '  - job_name: ray',
    '    file_sd_configs:',
    '      - files: [/tmp/ray/prom_metrics_service_discovery.json]',
    '    relabel_configs:',
    '      - target_label: node',
    '        replacement: gpu-0',
    `# ${s.gpus} GPU(s) of ${s.gpuName}; no node_exporter or dcgm-exporter: EFA and GPU-utilization evidence is missing.`,
    '',
  ].join('\n');
}

export class RehearsalSettingsError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
  }
}

function shellQuote(value: string): string {
  if (/[\n\r\0]/.test(value)) throw new Error(`rehearsal: a setting contains a line break: ${JSON.stringify(value)}`);
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

