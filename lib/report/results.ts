import { existsSync, readdirSync, readFileSync } from 'fs';
import { basename, dirname, join } from 'path';

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
  const layout = readLayout(path.replace(/\.json$/, '.meta.json'));
  if (typeof layout === 'string') return { path, reason: layout };
  return {
    file: path, ...folder, concurrency, ...(layout === undefined ? {} : { layout }),
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
