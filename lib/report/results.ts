import { existsSync, readdirSync, readFileSync } from 'fs';
import { basename, dirname, join } from 'path';
import { Evidence, EvidenceError, validateEvidence } from './evidence';

/** What a result ran on: from its sidecar's `layout` section, or from a profile for folders without one. */
export interface ResultLayout {
  /** GPUs the configuration's engines used. */
  readonly gpus: number;
  /** GPUs of the whole cluster. */
  readonly clusterGpus: number;
  /** "4 × TP4", "2P × TP4 + 2D × TP4". */
  readonly layout: string;
  readonly router: string;
  readonly gpuInstanceType: string;
  readonly region: string;
  readonly profile: string;
  /** `sidecar` (recorded by run_all.sh) or `profile <name>` (npm run report --profile). */
  readonly source: string;
}

/** One `vllm bench serve --save-result` file, reduced to what the report compares. */
export interface BenchResult {
  readonly file: string;
  readonly served: string;
  readonly inputLen: number;
  readonly outputLen: number;
  readonly mode: string;
  readonly experiment: string;
  readonly concurrency: number;
  readonly completed: number;
  readonly requestThroughput: number;
  readonly outputThroughput: number;
  readonly meanTtftMs: number;
  readonly meanTpotMs: number;
  /** Absent when no sidecar recorded it (e.g. the reference example's own files); the report may then take a profile's. */
  readonly layout?: ResultLayout;
  /** vllm bench serve's percentiles (run_bm.sh asks for 50 and 99); null when the file has none. */
  readonly percentiles: Readonly<Record<PercentileKey, number | null>>;
  readonly context: EvidenceContext;
}

export const PERCENTILE_KEYS = {
  p50TtftMs: 'p50_ttft_ms', p99TtftMs: 'p99_ttft_ms', p50TpotMs: 'p50_tpot_ms', p99TpotMs: 'p99_tpot_ms',
} as const;
export type PercentileKey = keyof typeof PERCENTILE_KEYS;

/** What the sidecar says about a result beyond its layout: the evidence and what it must agree with. */
export interface EvidenceContext {
  /** Whether a conc<N>.meta.json sits beside the result. */
  readonly sidecar: boolean;
  readonly evidence: Evidence | null;
  /** Why the evidence section could not be used (malformed, unknown schema), naming the file and field. */
  readonly evidenceError: string | null;
  /** From the layout section: `pd` or `collocated`; null when unrecorded. */
  readonly kind: 'pd' | 'collocated' | null;
  /** Whether an engine of the configuration has LMCacheConnectorV1 (layout section); null when unrecorded. */
  readonly usesLmcache: boolean | null;
  /** The sidecar's transport section: the configuration moves KV over NIXL, with this backend. */
  readonly usesNixl: boolean | null;
  readonly nixlBackend: string | null;
  /** NIXL provider of each GPU node as verified at boot (null: that node's facts were missing). */
  readonly providers: Readonly<Record<string, string | null>> | null;
}

export interface SkippedFile {
  readonly path: string;
  readonly reason: string;
}

export interface LoadedResults {
  readonly results: readonly BenchResult[];
  readonly skipped: readonly SkippedFile[];
}

export interface ResultFolder {
  readonly served: string;
  readonly inputLen: number;
  readonly outputLen: number;
  readonly mode: string;
  readonly experiment: string;
}

const RESULT_FILE = /^conc(\d+)\.json$/;
/** run_bm.sh's `<served>_itl<IN>_otl<OUT>_<mode>_<experiment>`; the served name may itself contain `_`. */
const RESULT_FOLDER = /^(.+)_itl(\d+)_otl(\d+)_([^_]+)_(.+)$/;

/** The vllm keys the table needs; a file without them is incomplete (e.g. a run killed before it finished). */
const REQUIRED_KEYS = {
  requestThroughput: 'request_throughput',
  outputThroughput: 'output_throughput',
  meanTtftMs: 'mean_ttft_ms',
  meanTpotMs: 'mean_tpot_ms',
  completed: 'completed',
} as const;

export function parseResultFolder(name: string): ResultFolder | undefined {
  const m = RESULT_FOLDER.exec(name);
  if (!m) return undefined;
  return { served: m[1], inputLen: Number(m[2]), outputLen: Number(m[3]), mode: m[4], experiment: m[5] };
}

/** Every conc<N>.json under `root`, at any depth; unreadable or incomplete files are listed, not thrown. */
export function loadResults(root: string): LoadedResults {
  const results: BenchResult[] = [];
  const skipped: SkippedFile[] = [];
  for (const path of findResultFiles(root)) {
    const outcome = readResult(path);
    if ('reason' in outcome) skipped.push(outcome);
    else results.push(outcome);
  }
  return { results, skipped };
}

function findResultFiles(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findResultFiles(path));
    else if (entry.isFile() && RESULT_FILE.test(entry.name)) found.push(path);
  }
  return found;
}

function readResult(path: string): BenchResult | SkippedFile {
  const folder = parseResultFolder(basename(dirname(path)));
  if (!folder) {
    return { path, reason: `folder name is not <served>_itl<IN>_otl<OUT>_<mode>_<experiment>` };
  }
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    return { path, reason: `not valid JSON (${err instanceof Error ? err.message : String(err)})` };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return { path, reason: 'not a JSON object' };
  const record = data as Record<string, unknown>;
  const missing = Object.values(REQUIRED_KEYS).filter((k) => typeof record[k] !== 'number' || !Number.isFinite(record[k]));
  if (missing.length > 0) return { path, reason: `missing or non-numeric ${missing.join(', ')}` };
  const value = (k: keyof typeof REQUIRED_KEYS): number => record[REQUIRED_KEYS[k]] as number;
  if (value('completed') <= 0) return { path, reason: 'no request completed' };
  const concurrency = Number(RESULT_FILE.exec(basename(path))?.[1]);
  const sidecar = path.replace(/\.json$/, '.meta.json');
  const layout = readLayout(sidecar);
  if (typeof layout === 'string') return { path, reason: layout };
  const percentile = (k: PercentileKey): number | null => {
    // vllm bench serve always writes median_*, the same statistic as p50_* (numpy's 50th percentile).
    const v = record[PERCENTILE_KEYS[k]] ?? (k.startsWith('p50') ? record[PERCENTILE_KEYS[k].replace('p50_', 'median_')] : undefined);
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  };
  return {
    file: path, ...folder, concurrency, ...(layout === undefined ? {} : { layout }),
    percentiles: Object.fromEntries(Object.keys(PERCENTILE_KEYS).map((k) => [k, percentile(k as PercentileKey)])) as Record<PercentileKey, number | null>,
    context: readContext(sidecar),
    completed: value('completed'),
    requestThroughput: value('requestThroughput'),
    outputThroughput: value('outputThroughput'),
    meanTtftMs: value('meanTtftMs'),
    meanTpotMs: value('meanTpotMs'),
  };
}

/**
 * The `layout` section of a result's sidecar (lib/serve/layout-record.ts writes it; run_all.sh passes it with
 * --meta-section), undefined when there is no sidecar or it has no layout, a reason when it is unusable.
 */
function readLayout(sidecar: string): ResultLayout | string | undefined {
  if (!existsSync(sidecar)) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(sidecar, 'utf8'));
  } catch (err) {
    return `its sidecar ${basename(sidecar)} is not valid JSON (${err instanceof Error ? err.message : String(err)})`;
  }
  const section = (doc as Record<string, unknown> | null)?.layout;
  if (section === undefined) return undefined;
  const l = section as Record<string, unknown>;
  const num = (k: string) => (typeof l[k] === 'number' && Number.isFinite(l[k]) && (l[k]) > 0 ? l[k] : undefined);
  const str = (k: string) => (typeof l[k] === 'string' ? l[k] : undefined);
  const router = (l.router as Record<string, unknown> | undefined)?.name;
  const gpus = num('gpus');
  const clusterGpus = num('clusterGpus');
  const fields = { layout: str('layout'), gpuInstanceType: str('gpuInstanceType'), region: str('region'), profile: str('profile') };
  const missing = [...(gpus === undefined ? ['gpus'] : []), ...(clusterGpus === undefined ? ['clusterGpus'] : []),
    ...Object.entries(fields).filter(([, v]) => v === undefined).map(([k]) => k), ...(typeof router === 'string' ? [] : ['router.name'])];
  if (missing.length > 0 || gpus === undefined || clusterGpus === undefined) {
    return `its sidecar's layout section lacks ${missing.join(', ')}`;
  }
  return {
    gpus, clusterGpus, layout: fields.layout ?? '', router: router as string, gpuInstanceType: fields.gpuInstanceType ?? '',
    region: fields.region ?? '', profile: fields.profile ?? '', source: 'sidecar',
  };
}

/** The sidecar's evidence and what it is checked against; a sidecar that cannot be read yields an empty context. */
function readContext(sidecar: string): EvidenceContext {
  const none: EvidenceContext = {
    sidecar: false, evidence: null, evidenceError: null, kind: null, usesLmcache: null, usesNixl: null, nixlBackend: null, providers: null,
  };
  if (!existsSync(sidecar)) return none;
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(readFileSync(sidecar, 'utf8')) as Record<string, unknown>;
  } catch {
    return none; // readLayout has already turned this into a skipped file
  }
  let evidence: Evidence | null = null;
  let evidenceError: string | null = null;
  if (doc.evidence !== undefined) {
    try {
      evidence = validateEvidence(doc.evidence, sidecar);
    } catch (err) {
      if (!(err instanceof EvidenceError)) throw err;
      evidenceError = err.message;
    }
  }
  const layout = (doc.layout ?? {}) as Record<string, unknown>;
  const kind = layout.kind === 'pd' || layout.kind === 'collocated' ? layout.kind : null;
  const engines = layout.engines as Record<string, { connectors?: unknown }> | undefined;
  const usesLmcache = engines === undefined ? null
    : Object.values(engines).some((e) => Array.isArray(e?.connectors) && e.connectors.includes('LMCacheConnectorV1'));
  const transport = doc.transport as Record<string, unknown> | undefined;
  const nodes = transport?.nodes as Record<string, { provider?: unknown } | null> | undefined;
  return {
    sidecar: true, evidence, evidenceError, kind, usesLmcache,
    usesNixl: typeof transport?.usesNixl === 'boolean' ? transport.usesNixl : null,
    nixlBackend: typeof transport?.nixlBackend === 'string' ? transport.nixlBackend : null,
    providers: nodes === undefined ? null
      : Object.fromEntries(Object.entries(nodes).map(([n, t]) => [n, typeof t?.provider === 'string' ? t.provider : null])),
  };
}
