import { GpuPrice, canonicalExperiment, gpuHourPrice } from './layouts';
import { EvidenceSummary, evidenceFlags, summarizeEvidence } from './flags';
import { BenchResult, PercentileKey, ResultLayout } from './results';

/** The reference example's four columns (anyscale/ray-serve-llm-perf-examples, pd+kv_offloading README). */
export const METRICS = [
  { key: 'requestThroughput', label: 'Request Throughput (req/s)', higherIsBetter: true },
  { key: 'outputThroughput', label: 'Output Token Throughput (tok/s)', higherIsBetter: true },
  { key: 'meanTtftMs', label: 'Mean TTFT (ms)', higherIsBetter: false },
  { key: 'meanTpotMs', label: 'Mean TPOT (ms)', higherIsBetter: false },
] as const;

export type MetricKey = (typeof METRICS)[number]['key'];

/** A latency budget a result must meet to be chosen in the summary. */
export interface LatencyBudget {
  readonly meanTtftMs: number;
  readonly meanTpotMs: number;
}

/**
 * The summary's default budget, a common interactive-chat target: first token within 2 s, then at least 20 tokens a
 * second (50 ms per output token). Set it with --ttft-budget-ms / --tpot-budget-ms.
 */
export const DEFAULT_BUDGET: LatencyBudget = { meanTtftMs: 2000, meanTpotMs: 50 };

export interface ReportRow {
  readonly configuration: string;
  readonly experiment: string;
  readonly concurrency: number;
  readonly file: string;
  readonly values: Readonly<Record<MetricKey, number>>;
  readonly layout: ResultLayout | null;
  /** Output tokens per second per GPU used; null when the GPU count is unknown. */
  readonly tokPerGpu: number | null;
  readonly price: GpuPrice | null;
  /** Dollars per million output tokens for the GPUs the configuration used; null when GPUs or price are unknown. */
  readonly usdPerMTok: number | null;
  /** The same, billing every GPU of the cluster (the idle ones too: what the user pays while it runs). */
  readonly clusterUsdPerMTok: number | null;
  /** Against the baseline of equal GPU count and concurrency; null when there is none. */
  readonly change: Readonly<Record<MetricKey, number>> | null;
  readonly baseline: string | null;
  /** Tokens per GPU and per dollar against the baseline at equal concurrency: comparable across GPU counts. */
  readonly normalizedChange: { readonly tokPerGpu: number | null; readonly usdPerMTok: number | null } | null;
  readonly normalizedBaseline: string | null;
  /** p50 and p99 TTFT and TPOT (ms) from vllm bench serve; null when the result has none. */
  readonly percentiles: Readonly<Record<PercentileKey, number | null>>;
  /** What Prometheus saw during the point (the sidecar's evidence section). */
  readonly evidence: EvidenceSummary;
  /** Evidence missing or contradicting the configuration (lib/report/flags.ts). */
  readonly flags: readonly string[];
}

/** Rows measured with the same workload (mode and token counts); only these are comparable. */
export interface WorkloadTable {
  readonly mode: string;
  readonly inputLen: number;
  readonly outputLen: number;
  /** The baseline of the first comparison group (the chart marks it). */
  readonly baseline: string;
  readonly rows: readonly ReportRow[];
  /** GPU counts in the table; more than one means raw throughput is not comparable across all rows. */
  readonly gpuCounts: readonly (number | null)[];
  readonly notes: readonly string[];
  readonly summary: string;
}

/** The reference example's order; the fifth configuration and other experiments follow. */
const KNOWN_ORDER = ['collocated-baseline', 'collocated-lmcache', 'pd-nixl', 'pd-multiconnector', 'pd-prefill-lmcache'];

export interface TableOptions {
  readonly baselineName?: string;
  readonly budget?: LatencyBudget;
  /** The layout of a result without a sidecar (from --profile), if any. */
  readonly fallbackLayout?: (experiment: string, mode: string) => ResultLayout | undefined;
}

export function buildTables(results: readonly BenchResult[], options: TableOptions = {}): WorkloadTable[] {
  const groups = new Map<string, BenchResult[]>();
  for (const r of results) {
    const key = `${r.mode}\u0000${r.inputLen}\u0000${r.outputLen}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((group) => buildTable(group, options))
    .sort((a, b) => a.mode.localeCompare(b.mode) || a.inputLen - b.inputLen || a.outputLen - b.outputLen);
}

interface Measured {
  readonly r: BenchResult;
  readonly experiment: string;
  readonly name: string;
  readonly layout: ResultLayout | null;
  readonly values: Record<MetricKey, number>;
  readonly tokPerGpu: number | null;
  readonly price: GpuPrice | null;
  readonly usdPerMTok: number | null;
  readonly clusterUsdPerMTok: number | null;
}

function buildTable(group: readonly BenchResult[], options: TableOptions): WorkloadTable {
  const budget = options.budget ?? DEFAULT_BUDGET;
  const sorted = [...group].map((r) => ({ r, experiment: canonicalExperiment(r.experiment) }))
    .sort((a, b) => a.r.concurrency - b.r.concurrency || rank(a.experiment) - rank(b.experiment) || a.experiment.localeCompare(b.experiment));
  const sweeps = new Set(sorted.map((x) => x.r.concurrency)).size > 1;
  const measured: Measured[] = sorted.map(({ r, experiment }) => {
    const layout = r.layout ?? options.fallbackLayout?.(experiment, r.mode) ?? null;
    const values = Object.fromEntries(METRICS.map((m) => [m.key, round2(r[m.key])])) as Record<MetricKey, number>;
    const price = layout === null ? null : gpuHourPrice(layout.gpuInstanceType, layout.region) ?? null;
    const perM = (gpus: number) => (price === null || r.outputThroughput <= 0 ? null : round2(price.gpuHourUsd * gpus / (r.outputThroughput * 3600) * 1e6));
    return {
      r, experiment, layout, values, price,
      name: sweeps ? `${experiment} @ c=${r.concurrency}` : experiment,
      tokPerGpu: layout === null ? null : round2(r.outputThroughput / layout.gpus),
      usdPerMTok: layout === null ? null : perM(layout.gpus),
      clusterUsdPerMTok: layout === null ? null : perM(layout.clusterGpus),
    };
  });
  const isBaseline = (m: Measured) => (options.baselineName !== undefined
    ? m.name === options.baselineName || m.experiment === options.baselineName || m.r.experiment === options.baselineName
    : m.experiment.includes('baseline'));
  // Raw metrics compare only at equal GPU count and concurrency; per-GPU and per-dollar ones at equal concurrency.
  const pick = (members: readonly Measured[]) => members.find(isBaseline) ?? members[0];
  const rawBase = new Map<string, Measured>();
  const normBase = new Map<number, Measured>();
  for (const m of measured) {
    const key = `${m.r.concurrency}\u0000${m.layout?.gpus ?? 'unknown'}`;
    if (!rawBase.has(key)) rawBase.set(key, pick(measured.filter((x) => `${x.r.concurrency}\u0000${x.layout?.gpus ?? 'unknown'}` === key)));
    if (!normBase.has(m.r.concurrency)) normBase.set(m.r.concurrency, pick(measured.filter((x) => x.r.concurrency === m.r.concurrency)));
  }
  const rows = measured.map((m): ReportRow => {
    const base = rawBase.get(`${m.r.concurrency}\u0000${m.layout?.gpus ?? 'unknown'}`) ?? m;
    const alone = measured.filter((x) => x.r.concurrency === m.r.concurrency && (x.layout?.gpus ?? null) === (m.layout?.gpus ?? null)).length === 1;
    const norm = normBase.get(m.r.concurrency) ?? m;
    return {
      configuration: m.name, experiment: m.experiment, concurrency: m.r.concurrency, file: m.r.file, values: m.values,
      layout: m.layout, tokPerGpu: m.tokPerGpu, price: m.price, usdPerMTok: m.usdPerMTok, clusterUsdPerMTok: m.clusterUsdPerMTok,
      baseline: alone ? null : base.name,
      change: alone ? null : Object.fromEntries(METRICS.map((x) => [x.key, round2(percentChange(m.values[x.key], base.values[x.key]))])) as Record<MetricKey, number>,
      normalizedBaseline: norm.name,
      percentiles: m.r.percentiles,
      evidence: summarizeEvidence(m.r.context.evidence),
      flags: evidenceFlags(m.r),
      normalizedChange: {
        tokPerGpu: m.tokPerGpu === null || norm.tokPerGpu === null ? null : round2(percentChange(m.tokPerGpu, norm.tokPerGpu)),
        usdPerMTok: m.usdPerMTok === null || norm.usdPerMTok === null ? null : round2(percentChange(m.usdPerMTok, norm.usdPerMTok)),
      },
    };
  });
  const gpuCounts = [...new Set(measured.map((m) => m.layout?.gpus ?? null))].sort((a, b) => (a ?? 0) - (b ?? 0));
  const first = group[0];
  const table = { mode: first.mode, inputLen: first.inputLen, outputLen: first.outputLen };
  return {
    ...table,
    baseline: (rawBase.values().next().value ?? measured[0]).name,
    rows,
    gpuCounts,
    notes: notesFor(measured, gpuCounts),
    summary: summaryFor(table, rows, budget),
  };
}

function notesFor(measured: readonly Measured[], gpuCounts: readonly (number | null)[]): string[] {
  const notes: string[] = [];
  const known = gpuCounts.filter((g): g is number => g !== null);
  if (known.length > 1) {
    const profiles = [...new Set(measured.map((m) => m.layout?.profile).filter((p) => p !== undefined))];
    notes.push(`This table mixes layouts of ${known.join(' and ')} GPUs${profiles.length > 0 ? ` (profile ${profiles.join(', ')})` : ''}: ` +
      'raw throughput and latency are compared only between rows of equal GPU count and concurrency; across GPU counts, ' +
      'compare output tokens per GPU and dollars per million output tokens.');
  }
  if (gpuCounts.includes(null)) {
    notes.push('Some results record no layout (no conc<N>.meta.json with a layout section): their GPU count, per-GPU ' +
      'throughput and cost are unknown. For the reference example\'s own files, run with --profile reference.');
  }
  const idle = measured.filter((m) => m.layout !== null && m.layout.gpus < m.layout.clusterGpus);
  if (idle.length > 0) {
    const l = idle[0].layout as ResultLayout;
    notes.push(`${[...new Set(idle.map((m) => m.experiment))].join(', ')} leave${idle.length === 1 ? 's' : ''} GPUs of the ` +
      `${l.clusterGpus}-GPU cluster idle: the whole-cluster column bills them too, as AWS does while the cluster runs.`);
  }
  return notes;
}

/** Which configuration gave the most output tokens per dollar within the latency budget. */
function summaryFor(t: { mode: string; inputLen: number; outputLen: number }, rows: readonly ReportRow[], budget: LatencyBudget): string {
  const where = `Workload ${t.mode} (${t.inputLen} in / ${t.outputLen} out tokens per request)`;
  const within = rows.filter((r) => r.values.meanTtftMs <= budget.meanTtftMs && r.values.meanTpotMs <= budget.meanTpotMs);
  const budgetText = `mean TTFT ≤ ${budget.meanTtftMs} ms and mean TPOT ≤ ${budget.meanTpotMs} ms`;
  if (within.length === 0) {
    return `${where}: none of the ${rows.length} results met the budget (${budgetText}); relax it with --ttft-budget-ms / --tpot-budget-ms.`;
  }
  const priced = within.filter((r) => r.usdPerMTok !== null);
  const perGpu = within.filter((r) => r.tokPerGpu !== null);
  const missed = rows.length - within.length;
  const tail = `${within.length} of ${rows.length} results met the budget${missed > 0 ? `; ${rows.filter((r) => !within.includes(r)).map((r) => r.configuration).join(', ')} did not` : ''}.`;
  if (priced.length > 0) {
    const best = priced.reduce((a, b) => ((b.usdPerMTok as number) < (a.usdPerMTok as number) ? b : a));
    const p = best.price as GpuPrice;
    const l = best.layout as ResultLayout;
    return `${where}: within ${budgetText}, ${best.experiment} at concurrency ${best.concurrency} on ${l.gpus} GPUs (${l.layout}, ` +
      `${l.router} router) gave the most output tokens per dollar: $${(best.usdPerMTok as number).toFixed(2)} per million output tokens, ` +
      `${(best.tokPerGpu as number).toFixed(2)} tok/s per GPU, at $${p.gpuHourUsd.toFixed(2)} per GPU-hour (${p.gpuInstanceType} on demand in ` +
      `${p.region}, $${p.instanceHourUsd.toFixed(2)}/h per instance). ${tail}`;
  }
  if (perGpu.length > 0) {
    const best = perGpu.reduce((a, b) => ((b.tokPerGpu as number) > (a.tokPerGpu as number) ? b : a));
    const l = best.layout as ResultLayout;
    return `${where}: within ${budgetText}, ${best.experiment} at concurrency ${best.concurrency} gave the most output tokens per GPU ` +
      `(${(best.tokPerGpu as number).toFixed(2)} tok/s per GPU on ${l.gpus} GPUs); the price of ${l.gpuInstanceType} in ${l.region} is unknown, ` +
      `so tokens per dollar are too. ${tail}`;
  }
  return `${where}: ${within.length} results met ${budgetText}, but none records its GPU count, so neither tokens per GPU nor per ` +
    'dollar can be ranked (use --profile for results without a layout).';
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

const usd = (n: number | null) => (n === null ? 'unknown' : `$${n.toFixed(2)}`);
const num = (n: number | null) => (n === null ? 'unknown' : n.toFixed(2));
const pair = (a: number | null, b: number | null) => `${a === null ? 'n/a' : a.toFixed(2)} / ${b === null ? 'n/a' : b.toFixed(2)}`;
const pct = (n: number | null) => (n === null ? 'n/a' : n.toFixed(1));
const gb = (bytes: number) => (bytes / 1e9).toFixed(2);
const kv = (e: EvidenceSummary) => (e.kvBytes === null ? 'n/a' : `${gb(e.kvBytes)}${e.kvMeanMs === null ? '' : ` (${e.kvMeanMs.toFixed(2)} ms)`}`);
const perNode = (m: Readonly<Record<string, number>> | null) => (m === null ? 'n/a'
  : Object.entries(m).map(([node, bytes]) => `${node} ${gb(bytes)}`).join(', ') || 'none');
const byRole = (m: Readonly<Record<string, number>> | null) => (m === null ? 'n/a'
  : Object.entries(m).map(([role, u]) => `${role} ${u.toFixed(0)}`).join(', ') || 'none');
const signed = (pct: number | null) => (pct === null ? 'unknown' : `${pct >= 0 ? '+' : ''}${pct.toFixed(2)}%`);

/**
 * Said instead of a table of n/a when no result of a workload records a percentile or any evidence: figures copied from
 * a publication (such as the reference example's, in samples/reference-example) carry only the means their table gave.
 */
export const NOTHING_RECORDED = 'Latency percentiles and evidence: none recorded for these results. Their files hold means only ' +
  '(no p50 / p99), and none has a conc<N>.meta.json beside it with what Prometheus saw during its benchmark: figures ' +
  'copied from a publication have neither, results of run_bm.sh have both.';

/** Whether a row has anything for the percentiles-and-evidence table. */
function recordsAny(r: ReportRow): boolean {
  return Object.values(r.percentiles).some((v) => v !== null) || Object.values(r.evidence).some((v) => v !== null);
}

/** Each flag once, after the results it concerns (`- a, b: evidence missing: …`), in the order they first appear. */
function groupedWarnings(rows: readonly ReportRow[]): string[] {
  const byFlag = new Map<string, string[]>();
  for (const r of rows) for (const f of r.flags) byFlag.set(f, [...(byFlag.get(f) ?? []), r.configuration]);
  return [...byFlag].map(([flag, names]) => `- ${names.join(', ')}: ${flag}`);
}

/**
 * One workload: the reference example's four columns, then GPUs, tokens per GPU and dollars per million output tokens;
 * changes within equal GPU count and concurrency; per-GPU and per-dollar changes at equal concurrency; the summary.
 */
export function formatMarkdown(table: WorkloadTable): string {
  const header = `| Configuration | ${METRICS.map((m) => m.label).join(' | ')} | GPUs | Output tok/s per GPU | $ per M output tokens (GPUs used) | $ per M output tokens (whole cluster) | Layout | Router |`;
  const rule = `|${Array.from({ length: METRICS.length + 7 }, () => '---').join('|')}|`;
  const values = table.rows.map((r) => `| ${r.configuration} | ${METRICS.map((m) => r.values[m.key].toFixed(2)).join(' | ')} | ` +
    `${r.layout?.gpus ?? 'unknown'} | ${num(r.tokPerGpu)} | ${usd(r.usdPerMTok)} | ${usd(r.clusterUsdPerMTok)} | ${r.layout?.layout ?? 'unknown'} | ${r.layout?.router ?? 'unknown'} |`);
  const changeHeader = `| Configuration | Baseline | ${METRICS.map((m) => m.label).join(' | ')} |`;
  const changeRule = `|${Array.from({ length: METRICS.length + 2 }, () => '---').join('|')}|`;
  const changes = table.rows.map((r) => `| ${r.configuration} | ${r.baseline ?? 'none of equal GPUs and concurrency'} | ` +
    `${METRICS.map((m) => (r.change === null ? 'n/a' : r.baseline === r.configuration ? 'baseline' : signed(r.change[m.key]))).join(' | ')} |`);
  const evidenceHeader = '| Configuration | TTFT p50 / p99 (ms) | TPOT p50 / p99 (ms) | Prefix cache hit % | KV over NIXL: GB (mean ms per transfer) | LMCache hit % | EFA RDMA GB per node | GPU util % by role | Flags |';
  const evidenceRule = `|${Array.from({ length: 9 }, () => '---').join('|')}|`;
  const evidence = table.rows.map((r) => `| ${r.configuration} | ${pair(r.percentiles.p50TtftMs, r.percentiles.p99TtftMs)} | ` +
    `${pair(r.percentiles.p50TpotMs, r.percentiles.p99TpotMs)} | ${pct(r.evidence.prefixHitPct)} | ${kv(r.evidence)} | ` +
    `${pct(r.evidence.lmcacheHitPct)} | ${perNode(r.evidence.efaRdmaBytesPerNode)} | ${byRole(r.evidence.gpuUtilByRole)} | ` +
    `${r.flags.length === 0 ? 'ok' : `⚠ ${r.flags.length}`} |`);
  const warnings = groupedWarnings(table.rows);
  const flagged = table.rows.filter((r) => r.flags.length > 0).length;
  const normHeader = '| Configuration | Baseline | Output tok/s per GPU | $ per M output tokens (GPUs used) |';
  const normRule = '|---|---|---|---|';
  const norms = table.rows.map((r) => `| ${r.configuration} | ${r.normalizedBaseline ?? 'none'} | ` +
    (r.normalizedBaseline === r.configuration ? 'baseline | baseline |' : `${signed(r.normalizedChange?.tokPerGpu ?? null)} | ${signed(r.normalizedChange?.usdPerMTok ?? null)} |`));
  return [
    `### Workload ${table.mode}: ${table.inputLen} input / ${table.outputLen} output tokens per request`,
    '',
    header, rule, ...values,
    ...(table.notes.length > 0 ? ['', ...table.notes.map((n) => `> ${n}`)] : []),
    '',
    ...(table.rows.some(recordsAny)
      ? ['Latency percentiles and evidence: what Prometheus saw during each point (the evidence section of conc<N>.meta.json; n/a: not recorded, see the warnings):',
        '', evidenceHeader, evidenceRule, ...evidence]
      : [NOTHING_RECORDED]),
    ...(warnings.length > 0
      ? ['', `**Warnings** (${flagged} of ${table.rows.length} results flagged; each warning once, with the results it concerns):`, '', ...warnings]
      : []),
    '',
    'Change at equal GPU count and concurrency (throughput: higher is better; TTFT and TPOT: lower is better):',
    '',
    changeHeader, changeRule, ...changes,
    '',
    'Per GPU and per dollar at equal concurrency, across GPU counts (tokens per GPU: higher is better; dollars: lower is better):',
    '',
    normHeader, normRule, ...norms,
    '',
    `**Summary.** ${table.summary}`,
  ].join('\n');
}
