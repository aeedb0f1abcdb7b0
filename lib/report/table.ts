import { BenchResult } from './results';

export const METRICS = [
  { key: 'requestThroughput', label: 'Request Throughput (req/s)', higherIsBetter: true },
  { key: 'outputThroughput', label: 'Output Token Throughput (tok/s)', higherIsBetter: true },
  { key: 'meanTtftMs', label: 'Mean TTFT (ms)', higherIsBetter: false },
  { key: 'meanTpotMs', label: 'Mean TPOT (ms)', higherIsBetter: false },
] as const;

export type MetricKey = (typeof METRICS)[number]['key'];

export interface ReportRow {
  readonly configuration: string;
  readonly experiment: string;
  readonly concurrency: number;
  readonly file: string;
  readonly values: Readonly<Record<MetricKey, number>>;
  /** Percent change against the baseline row; 0 for the baseline itself. */
  readonly change: Readonly<Record<MetricKey, number>>;
}

/** Rows measured with the same workload (mode and token counts); only these are comparable. */
export interface WorkloadTable {
  readonly mode: string;
  readonly inputLen: number;
  readonly outputLen: number;
  readonly baseline: string;
  readonly rows: readonly ReportRow[];
}

/** The order of the brief's table; other experiments follow alphabetically. */
const KNOWN_ORDER = ['collocated-baseline', 'collocated-lmcache', 'pd-nixl', 'pd-multiconnector'];

export function buildTables(results: readonly BenchResult[], baselineName?: string): WorkloadTable[] {
  const groups = new Map<string, BenchResult[]>();
  for (const r of results) {
    const key = `${r.mode}\u0000${r.inputLen}\u0000${r.outputLen}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((group) => buildTable(group, baselineName))
    .sort((a, b) => a.mode.localeCompare(b.mode) || a.inputLen - b.inputLen || a.outputLen - b.outputLen);
}

function buildTable(group: readonly BenchResult[], baselineName?: string): WorkloadTable {
  const sorted = [...group].sort((a, b) => rank(a.experiment) - rank(b.experiment)
    || a.experiment.localeCompare(b.experiment) || a.concurrency - b.concurrency);
  const sweeps = new Set(sorted.map((r) => r.concurrency)).size > 1;
  const name = (r: BenchResult): string => (sweeps ? `${r.experiment} @ c=${r.concurrency}` : r.experiment);
  const base = sorted.find((r) => baselineName !== undefined && (name(r) === baselineName || r.experiment === baselineName))
    ?? sorted.find((r) => r.experiment.includes('baseline')) ?? sorted[0];
  const rows = sorted.map((r): ReportRow => {
    const values = valuesOf(r);
    const baseValues = valuesOf(base);
    const change = Object.fromEntries(METRICS.map((m) => [m.key, round2(percentChange(values[m.key], baseValues[m.key]))])) as Record<MetricKey, number>;
    return { configuration: name(r), experiment: r.experiment, concurrency: r.concurrency, file: r.file, values, change };
  });
  const first = group[0];
  return { mode: first.mode, inputLen: first.inputLen, outputLen: first.outputLen, baseline: name(base), rows };
}

function valuesOf(r: BenchResult): Record<MetricKey, number> {
  return Object.fromEntries(METRICS.map((m) => [m.key, round2(r[m.key])])) as Record<MetricKey, number>;
}

function rank(experiment: string): number {
  const i = KNOWN_ORDER.indexOf(experiment);
  return i === -1 ? KNOWN_ORDER.length : i;
}

function percentChange(value: number, base: number): number {
  return base === 0 ? 0 : ((value - base) / base) * 100;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** The brief's Markdown table for one workload, followed by each row's change against the baseline row. */
export function formatMarkdown(table: WorkloadTable): string {
  const header = `| Configuration | ${METRICS.map((m) => m.label).join(' | ')} |`;
  const rule = `|${['---------------', ...METRICS.map(() => '---')].map((s) => s).join('|')}|`;
  const values = table.rows.map((r) => `| ${r.configuration} | ${METRICS.map((m) => r.values[m.key].toFixed(2)).join(' | ')} |`);
  const changes = table.rows.map((r) => `| ${r.configuration} | ${METRICS.map((m) => (r.configuration === table.baseline ? 'baseline' : signed(r.change[m.key]))).join(' | ')} |`);
  return [
    `### Workload ${table.mode}: ${table.inputLen} input / ${table.outputLen} output tokens per request`,
    '',
    header, rule, ...values,
    '',
    `Change vs ${table.baseline} (throughput: higher is better; TTFT and TPOT: lower is better):`,
    '',
    header, rule, ...changes,
  ].join('\n');
}

function signed(pct: number): string {
  return `${pct >= 0 ? '+' : ''}${pct.toFixed(2)}%`;
}
