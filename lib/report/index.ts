import { writeFileSync } from 'fs';
import { join } from 'path';
import { renderChart } from './chart';
import { loadResults, SkippedFile } from './results';
import { INSTANCE_PRICE_SOURCE } from '../catalog/prices';
import { REGION_CATALOG_SOURCE } from '../catalog/regions';
import { REFERENCE_EXAMPLE } from '../catalog/reference-example';
import { PREFIX_REUSE_WORKLOAD } from '../study/workloads';
import { profileLayouts } from './layouts';
import { buildTables, DEFAULT_BUDGET, formatMarkdown, LatencyBudget, WorkloadTable } from './table';
import type { Profile } from '../study/layouts';

export { loadResults, parseResultFolder } from './results';
export type { BenchResult, SkippedFile, ResultLayout } from './results';
export { buildTables, formatMarkdown, METRICS, DEFAULT_BUDGET } from './table';
export type { WorkloadTable, ReportRow, LatencyBudget } from './table';
export { canonicalExperiment, gpuHourPrice, isProfile } from './layouts';
export { chartSpec, renderChart, renderChartSvg, PALETTE_SCHEME, PALETTE_SIZE } from './chart';
export type { ChartSpec, RenderedChart } from './chart';
export { validateEvidence, EvidenceError, EVIDENCE_SCHEMA, EVIDENCE_FIELDS } from './evidence';
export type { Evidence } from './evidence';
export { evidenceFlags } from './flags';

/** Exit code when some result files were skipped: the printed report is then incomplete. */
export const EXIT_SKIPPED = 2;
/** Exit code with --strict when some result's evidence is missing or contradicts its configuration (see the warnings). */
export const EXIT_FLAGGED = 3;
export const CHART_FILE = 'report.svg';
/** The same chart as PNG, which the Markdown report embeds (a relative link: save the report beside it). */
export const CHART_PNG_FILE = 'report.png';

export interface ReportOptions {
  readonly json: boolean;
  readonly baseline?: string;
  readonly chart: boolean;
  /** Layouts for results without a sidecar layout (e.g. the reference example's own files). */
  readonly profile?: Profile;
  /** Region those layouts are priced in (default: the settings' default region). */
  readonly region?: string;
  readonly budget?: LatencyBudget;
  /** Exit with EXIT_FLAGGED when any result is flagged (the warnings are printed either way). */
  readonly strict?: boolean;
}

export interface ReportOutcome {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
  readonly chartPath?: string;
  readonly chartPngPath?: string;
}

/**
 * Everything `npm run report` does except touching the process, so tests can call it directly. Asynchronous because
 * Vega renders asynchronously and is an ES module loaded on demand.
 */
export async function runReport(dir: string, options: ReportOptions): Promise<ReportOutcome> {
  const { results, skipped } = loadResults(dir);
  const fallbackLayout = options.profile === undefined ? undefined
    : profileLayouts(options.profile, options.region, (mode) => (mode === PREFIX_REUSE_WORKLOAD.mode ? 'prefix-reuse' : 'random'));
  const budget = options.budget ?? DEFAULT_BUDGET;
  const tables = buildTables(results, { baselineName: options.baseline, budget, fallbackLayout });
  const stderr = skipped.map((s) => `skipped ${s.path}: ${s.reason}`);
  if (tables.length === 0) {
    return { stdout: '', stderr: [...stderr, `no usable conc<N>.json results under ${dir}`].join('\n'), exitCode: 1 };
  }
  let chartPath: string | undefined;
  let chartPngPath: string | undefined;
  if (options.chart) {
    const chart = await renderChart(tables);
    chartPath = join(dir, CHART_FILE);
    chartPngPath = join(dir, CHART_PNG_FILE);
    writeFileSync(chartPath, chart.svg);
    writeFileSync(chartPngPath, chart.png);
    stderr.push(...chart.warnings.map((w) => `chart: ${w}`));
  }
  const warnings = tables.flatMap((t) => t.rows.flatMap((r) => r.flags.map((f) => `${r.configuration} (${r.file}): ${f}`)));
  const stdout = options.json
    ? JSON.stringify(toJson(tables, skipped, chartPath, budget, warnings, chartPngPath), null, 2)
    : toMarkdown(tables, chartPath, chartPngPath);
  const exitCode = skipped.length > 0 ? EXIT_SKIPPED : options.strict === true && warnings.length > 0 ? EXIT_FLAGGED : 0;
  // The warnings themselves are in the report (stdout) once; stderr only says there are some, for a report saved to a file.
  const flagged = tables.flatMap((t) => t.rows).filter((r) => r.flags.length > 0).length;
  if (flagged > 0) {
    stderr.push(`warning: ${flagged} result(s) flagged (evidence missing or contradicting the configuration): ` +
      `see ${options.json ? '"warnings" in the JSON' : '**Warnings** in the report'}`);
  }
  return { stdout, stderr: stderr.join('\n'), exitCode, chartPath, chartPngPath };
}

function toMarkdown(tables: readonly WorkloadTable[], chartPath: string | undefined, chartPngPath?: string): string {
  const chart = chartPath && chartPngPath
    ? [`![chart](${CHART_PNG_FILE})`, `Chart: ${chartPath} and ${chartPngPath} (the image link above is relative to the results folder: save this report there to see it).`]
    : [];
  return [...rehearsalNotice(tables), ...tables.map(formatMarkdown), sources(tables), ...chart].join('\n\n');
}

/** Results of a one-machine rehearsal (layout profile `rehearsal`) say, first, what they are and are not. */
export function rehearsalNotice(tables: readonly WorkloadTable[]): string[] {
  const machines = [...new Set(tables.flatMap((t) => t.rows).filter((r) => r.layout?.profile === 'rehearsal').map((r) => r.layout?.gpuInstanceType))];
  if (machines.length === 0) return [];
  return [`**Functional rehearsal** (${machines.join('; ')}): these results show that the whole pipeline runs, from the ` +
    'install to the report; they come from a small model on one machine and are not performance figures. What a ' +
    'rehearsal cannot show (EFA, p5 timings, KV crossing nodes) is recorded in every result\'s sidecar (section rehearsal).'];
}

/** Where the layouts and prices came from, once for the whole report. */
function sources(tables: readonly WorkloadTable[]): string {
  const rows = tables.flatMap((t) => t.rows);
  const layoutSources = [...new Set(rows.map((r) => r.layout?.source ?? 'none recorded'))];
  const prices = [...new Map(rows.filter((r) => r.price !== null).map((r) => [`${r.price?.gpuInstanceType}/${r.price?.region}`, r.price])).values()];
  const unpriced = [...new Set(rows.filter((r) => r.layout !== null && r.price === null).map((r) => `${r.layout?.gpuInstanceType} in ${r.layout?.region}`))];
  return [
    `Layouts (GPUs, replicas × TP, router): ${layoutSources.map((s) => (s === 'sidecar' ? 'recorded beside each result (conc<N>.meta.json, section layout)' : s)).join('; ')}.`,
    ...prices.map((p) => `Price: ${p?.gpuInstanceType} in ${p?.region}, $${p?.instanceHourUsd.toFixed(2)}/h on demand = $${p?.gpuHourUsd.toFixed(4)} per GPU-hour; ` +
      `source: the cost review's price table (lib/catalog/prices.ts), AWS On-Demand Linux prices as recorded in the ${REGION_CATALOG_SOURCE.source}, as of ${INSTANCE_PRICE_SOURCE.asOf}. GPU instances only: the head node, network and storage are not included.`),
    ...unpriced.map((u) => `Price: unknown for ${u} (not in the price table): dollars per million tokens are unknown.`),
    `Reference: ${REFERENCE_EXAMPLE.name} (${REFERENCE_EXAMPLE.url}).`,
  ].join('\n');
}

function toJson(tables: readonly WorkloadTable[], skipped: readonly SkippedFile[], chartPath: string | undefined, budget: LatencyBudget,
  warnings: readonly string[], chartPngPath?: string): object {
  return {
    rehearsal: rehearsalNotice(tables)[0] ?? null, workloads: tables, budget, priceSource: INSTANCE_PRICE_SOURCE, skipped, warnings,
    chart: chartPath ?? null, chartPng: chartPngPath ?? null,
  };
}
