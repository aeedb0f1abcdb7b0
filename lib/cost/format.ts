import * as fs from 'fs';
import * as path from 'path';
import { CostLine, CostReport } from './report';

export const COST_REPORT_JSON = 'cost-report.json';
export const COST_REPORT_MD = 'cost-report.md';

const usd = (value: number | null, digits = 4): string => (value === null ? 'unknown' : `$${value.toFixed(digits)}`);
/** A total as printed: unknown when an instance has no price (never a near-zero figure for a GPU cluster). */
export const formatTotal = (report: CostReport, value: number): string => (report.instancePriceUnknown
  ? `unknown (the priced lines alone: $${value.toFixed(2)})`
  : `${report.totalIsLowerBound ? '≥ ' : ''}$${value.toFixed(2)}`);
/** The deploy cache stands apart as a monthly figure too: it outlives the stack whose totals include it. */
const deployCacheLine = (report: CostReport): string[] => {
  const c = report.deployCache;
  if (!c) return [];
  if (c.monthlyUsd === null || c.hourlyUsd === null || c.gb === null) {
    return [`Deploy cache: s3://${c.bucketName}, price unknown (see the warnings); it keeps billing after \`cdk destroy\` of this stack`];
  }
  return [`Deploy cache: $${c.monthlyUsd.toFixed(2)} a month (${c.gb} GB in s3://${c.bucketName}), in the total above at ` +
    `$${c.hourlyUsd.toFixed(4)}/h; it keeps billing after \`cdk destroy\` of this stack, until you empty or delete it`];
};
/** An hourly figure as the multiplications below use it: four decimals, as the table's $/h column. */
const perHour = (report: CostReport): string => (report.instancePriceUnknown
  ? `the priced lines' $${report.totalHourlyUsd.toFixed(4)}/h (an instance price is unknown)`
  : `${report.totalIsLowerBound ? '≥ ' : ''}$${report.totalHourlyUsd.toFixed(4)}/h`);

/** The benchmark estimate, with the product it is and the time it rests on, so a reader can redo it. */
const benchmarkLine = (report: CostReport): string => (report.benchmarkRun
  ? `${formatTotal(report, report.benchmarkRun.usd)} = ${report.benchmarkRun.estimatedHours} h × ${perHour(report)}; ${report.benchmarkRun.basis}`
  : 'no estimate: the reference example measured only openai/gpt-oss-120b on p5.48xlarge, so no rate applies to this stack');

/**
 * The spend guard's two figures with how each is made: until the stop, maxHours × the hourly total; after it, the
 * total less the stopped nodes' compute. A stopped instance bills no compute, so an unknown GPU price leaves the
 * figure after the stop known.
 */
export function spendGuardText(report: CostReport): string {
  const g = report.spendGuard;
  if (!g.enabled) return 'OFF (maxHours=0)';
  const hours = `${g.maxHours} h`;
  const until = report.instancePriceUnknown
    ? `unknown (${hours} × a total that lacks an instance's price; the priced lines alone: ${hours} × $${report.totalHourlyUsd.toFixed(4)}/h = $${g.costAtStopUsd.toFixed(2)})`
    : `${formatTotal(report, g.costAtStopUsd)} (${hours} × ${perHour(report)})`;
  const after = g.hourlyAfterStopCertainty === 'unknown' ? `unknown (the priced lines alone: $${g.hourlyAfterStopUsd.toFixed(2)})`
    : `${g.hourlyAfterStopCertainty === 'lower-bound' ? '≥ ' : ''}$${g.hourlyAfterStopUsd.toFixed(2)}`;
  const n = g.stoppedInstances;
  const nodes = `the ${n} GPU node${n === 1 ? '' : 's'} it stops`;
  const why = n === 0 ? 'the whole total: the GPU nodes\' reserved capacity bills whether they run or not'
    : `the total less ${g.stoppedUnpriced === 0 ? `the $${g.stoppedHourlyUsd.toFixed(4)}/h compute of ${nodes}`
      : g.stoppedUnpriced === n ? `the compute of ${nodes}, unpriced here`
        : `the compute of ${nodes} ($${g.stoppedHourlyUsd.toFixed(4)}/h, ${g.stoppedUnpriced} of them unpriced here)`} ` +
      '(a stopped instance bills no compute)';
  return `GPU nodes stop ${hours} after they start (every start); cost until then ${until}, then ${after}/h: ${why}; ` +
    'the head node, volumes, NAT gateway and the rest bill on until the stack is deleted';
}

/** The short table printed on every synth: one row per line, then totals, guard, price date and source. */
export function formatCostTable(report: CostReport): string {
  const header = ['Resource', 'Description', 'Qty', 'Unit', '$/unit-h', '$/h'];
  const rows = report.lines.map((l) => [
    l.logicalId, truncate(l.description, 58), formatQuantity(l.quantity), l.unit, usd(l.unitHourlyUsd, 6), usd(l.hourlyUsd),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const numeric = new Set([2, 4, 5]);
  const render = (cells: string[]) =>
    cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');

  const out = [
    `Cost review: ${report.region}${report.capacityBlock ? ' (Capacity Block)' : ''}`,
    render(header), rule, ...rows.map(render), rule,
    `Total: ${formatTotal(report, report.totalHourlyUsd)}/h, ${formatTotal(report, report.totalDailyUsd)}/day (${report.currency})`,
    ...deployCacheLine(report),
    `Benchmark run: ${benchmarkLine(report)}`,
    `Spend guard: ${spendGuardText(report)}`,
    `Prices: ${report.priceDate}, ${report.priceSource}`,
    ...report.warnings.map((w) => `WARNING: ${w}`),
  ];
  return out.join('\n');
}

/** The Markdown version written beside the template, for review in a pull request or a browser. */
export function formatCostMarkdown(report: CostReport): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const lineRow = (l: CostLine) => `| ${[l.logicalId, l.resourceType, l.description, formatQuantity(l.quantity), l.unit,
    usd(l.unitHourlyUsd, 6), usd(l.hourlyUsd), usd(l.dailyUsd, 2), l.pricing, l.note ?? ''].map(cell).join(' | ')} |`;
  const guard = report.spendGuard.enabled
    ? `${spendGuardText(report)}. Schedule ${report.spendGuard.scheduleLogicalIds.join(', ') || 'missing'}, targets ` +
      `${report.spendGuard.targetInstanceLogicalIds.join(', ') || 'none found'}. Stop time: ${report.spendGuard.stopTime}.`
    : `**OFF** — ${report.spendGuard.warning}`;
  const list = (items: readonly string[]) => (items.length ? items.map((i) => `- ${i}`).join('\n') : '- none');
  return [
    `# Cost review — ${report.region}`,
    '',
    `**Total: ${formatTotal(report, report.totalHourlyUsd)}/h, ${formatTotal(report, report.totalDailyUsd)}/day (${report.currency})**` +
      (report.capacityBlock ? ' — GPU compute on the Capacity Block model (paid up front).' : ''),
    ...deployCacheLine(report).flatMap((l) => ['', `${l}.`]),
    '',
    `Prices as of ${report.priceDate}. Source: ${report.priceSource}.`,
    '',
    '| Resource | Type | Description | Qty | Unit | $/unit-h | $/h | $/day | Pricing | Note |',
    '|---|---|---|--:|---|--:|--:|--:|---|---|',
    ...report.lines.map(lineRow),
    '',
    `## Benchmark run`,
    '',
    `${benchmarkLine(report)}.`,
    '',
    '## Spend guard',
    '',
    guard,
    '',
    '## Warnings',
    '',
    list(report.warnings),
    '',
    '## Notes',
    '',
    list(report.notes),
    '',
    '## Assumptions',
    '',
    list(report.assumptions),
    '',
    '## Free resources (not priced)',
    '',
    list(Object.entries(report.freeResources).map(([type, n]) => `${type} × ${n}`)),
    '',
  ].join('\n');
}

/** Writes cost-report.json and cost-report.md into `dir` (the cloud assembly folder) and returns their paths. */
export function writeCostReport(dir: string, report: CostReport): { jsonPath: string; mdPath: string } {
  fs.mkdirSync(dir, { recursive: true });
  const jsonPath = path.join(dir, COST_REPORT_JSON);
  const mdPath = path.join(dir, COST_REPORT_MD);
  fs.writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  fs.writeFileSync(mdPath, formatCostMarkdown(report));
  return { jsonPath, mdPath };
}

function formatQuantity(q: number): string {
  return Number.isInteger(q) ? String(q) : q.toFixed(2);
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
