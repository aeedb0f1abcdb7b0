import { writeFileSync } from 'fs';
import { join } from 'path';
import { renderChartSvg } from './chart';
import { loadResults, SkippedFile } from './results';
import { buildTables, formatMarkdown, WorkloadTable } from './table';

export { loadResults, parseResultFolder } from './results';
export type { BenchResult, SkippedFile } from './results';
export { buildTables, formatMarkdown, METRICS } from './table';
export type { WorkloadTable, ReportRow } from './table';
export { renderChartSvg } from './chart';

/** Exit code when some result files were skipped: the printed report is then incomplete. */
export const EXIT_SKIPPED = 2;
export const CHART_FILE = 'report.svg';

export interface ReportOptions {
  readonly json: boolean;
  readonly baseline?: string;
  readonly chart: boolean;
}

export interface ReportOutcome {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
  readonly chartPath?: string;
}

/** Everything `npm run report` does except touching the process, so tests can call it directly. */
export function runReport(dir: string, options: ReportOptions): ReportOutcome {
  const { results, skipped } = loadResults(dir);
  const tables = buildTables(results, options.baseline);
  const stderr = skipped.map((s) => `skipped ${s.path}: ${s.reason}`);
  if (tables.length === 0) {
    return { stdout: '', stderr: [...stderr, `no usable conc<N>.json results under ${dir}`].join('\n'), exitCode: 1 };
  }
  let chartPath: string | undefined;
  if (options.chart) {
    chartPath = join(dir, CHART_FILE);
    writeFileSync(chartPath, renderChartSvg(tables));
  }
  const stdout = options.json ? JSON.stringify(toJson(tables, skipped, chartPath), null, 2) : toMarkdown(tables, chartPath);
  return { stdout, stderr: stderr.join('\n'), exitCode: skipped.length > 0 ? EXIT_SKIPPED : 0, chartPath };
}

function toMarkdown(tables: readonly WorkloadTable[], chartPath: string | undefined): string {
  return [...tables.map(formatMarkdown), ...(chartPath ? [`Chart: ${chartPath}`] : [])].join('\n\n');
}

function toJson(tables: readonly WorkloadTable[], skipped: readonly SkippedFile[], chartPath: string | undefined): object {
  return { workloads: tables, skipped, chart: chartPath ?? null };
}
