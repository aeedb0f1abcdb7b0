/**
 * The report's chart, drawn by Vega-Lite (https://vega.github.io/vega-lite/) and rendered headless by Vega to SVG,
 * then to PNG by resvg (@resvg/resvg-js) with the DejaVu Sans font shipped in the dejavu-fonts-ttf package, so the
 * PNG's text does not depend on the fonts of the machine that draws it.
 *
 * Per workload: one bar panel per metric (one bar per row of the table; tokens per GPU and dollars per million
 * tokens too when the layouts are known), and for a concurrency sweep a
 * throughput-vs-latency panel per latency metric (one line per configuration, its points labelled with their
 * concurrency). This module builds the specification synchronously (testable without rendering); rendering loads
 * vega and vega-lite, which are ES modules, only when a chart is drawn.
 */
import { METRICS, MetricKey, ReportRow, WorkloadTable } from './table';

/**
 * Vega's `tableau20` categorical scheme (vega-scale's schemes), named in the specification so Vega resolves it;
 * listed here too so the report can say when a chart has more configurations than distinct colours.
 */
export const PALETTE_SCHEME = 'tableau20';
export const PALETTE_SIZE = 20;
export const FONT_FAMILY = 'DejaVu Sans';
/** The PNG is drawn at twice the SVG's size, so text stays sharp when the Markdown viewer scales it. */
export const PNG_ZOOM = 2;

/**
 * The width the whole chart is laid out for, in CSS pixels. GitHub renders Markdown 980 px wide with 45 px of padding
 * (sindresorhus/github-markdown-css, readme: "GitHub uses 980px width and 45px padding"), 890 px of content at most and
 * less beside a repository's sidebar: a chart of at most 800 px shows its 10 px labels at about their size (the PNG
 * has twice the pixels, so it stays sharp when scaled).
 */
export const README_WIDTH = 800;
/**
 * Bar panels per row at most: two, so that a panel keeps about 260 px beside names of 30 characters. Vega lays text
 * out by its own estimate, 0.8 × the font size per character (vega-scenegraph 5.3 `estimateWidth`, used without a
 * canvas, as here), wider than DejaVu Sans draws it: the layout budgets for the estimate.
 */
const MAX_BARS_PER_ROW = 2;
const BAR_PANEL_WIDTH = { min: 120, max: 230 } as const;
const BAR_SPACING = 16;
const BAR_STEP = 18;
const LINE_PANEL = { width: 440, height: 240 } as const;
const PADDING = 10;
/** Vega's estimate of a character's width, as a fraction of the font size (see MAX_BARS_PER_ROW). */
export const VEGA_CHAR_EM = 0.8;
const LABEL_FONT_SIZE = 10;
export const PANEL_TITLE_FONT_SIZE = 12;
/** The latency metrics a sweep's line chart plots against output throughput. */
const SWEEP_LATENCIES: readonly MetricKey[] = ['meanTpotMs', 'meanTtftMs'];

/** One point of a panel: a row of the table for one metric. */
interface Datum {
  readonly workload: string;
  readonly configuration: string;
  readonly experiment: string;
  readonly concurrency: number;
  readonly metric: string;
  readonly value: number;
  readonly label: string;
  readonly outputThroughput: number;
  readonly latency: number;
}

export interface ChartSpec {
  /** The Vega-Lite specification (top level). */
  readonly vegaLite: Record<string, unknown>;
  /** The configurations (experiments) the colours stand for, in legend order. */
  readonly series: readonly string[];
  /** Workloads that got a throughput-vs-latency line chart (those with more than one concurrency). */
  readonly sweeps: readonly string[];
  /** Names of the text marks whose labels the Vega label transform places (see withLabelPlacement). */
  readonly pointLabelMarks: readonly string[];
}

export interface RenderedChart {
  readonly svg: string;
  readonly png: Buffer;
  readonly width: number;
  readonly height: number;
  readonly series: readonly string[];
  /** Said in the report: e.g. more configurations than distinct colours. */
  readonly warnings: readonly string[];
}

const workloadTitle = (t: WorkloadTable) => `${t.mode}: ${t.inputLen} in / ${t.outputLen} out tokens per request`;
const metricLabel = (key: MetricKey) => METRICS.find((m) => m.key === key)?.label ?? key;
const formatValue = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(2));

/**
 * A Vega expression for an axis tick label with its unit: `0 ms`, `1.5k tok/s`, `$2`. Thousands as `k` (never `0k`
 * or `0.2k`: each tick is formatted on its own, not to the axis's shared SI prefix).
 */
export function tickLabelExpr(unit: { readonly prefix?: string; readonly suffix?: string }): string {
  const number = "(datum.value >= 1000 ? format(datum.value / 1000, '~r') + 'k' : format(datum.value, '~r'))";
  return `${unit.prefix ? `'${unit.prefix}' + ` : ''}${number}${unit.suffix ? ` + ' ${unit.suffix}'` : ''}`;
}

interface BarMetric {
  readonly label: string;
  readonly value: (r: ReportRow) => number | null;
  readonly format: (v: number) => string;
  readonly unit: { readonly prefix?: string; readonly suffix?: string };
}

/** The unit of each of the table's columns, for its axis ticks. */
const METRIC_UNITS: Readonly<Record<MetricKey, BarMetric['unit']>> = {
  requestThroughput: { suffix: 'req/s' }, outputThroughput: { suffix: 'tok/s' }, meanTtftMs: { suffix: 'ms' }, meanTpotMs: { suffix: 'ms' },
};

/**
 * The table's four columns, then output tokens per GPU and dollars per million output tokens when some row knows its
 * GPUs (and price): across GPU counts those are the comparable figures.
 */
function barMetrics(table: WorkloadTable): BarMetric[] {
  const metrics: BarMetric[] = METRICS.map((m) => ({ label: m.label, value: (r) => r.values[m.key], format: formatValue, unit: METRIC_UNITS[m.key] }));
  if (table.rows.some((r) => r.tokPerGpu !== null)) {
    metrics.push({ label: 'Output tok/s per GPU', value: (r) => r.tokPerGpu, format: formatValue, unit: { suffix: 'tok/s' } });
  }
  if (table.rows.some((r) => r.usdPerMTok !== null)) {
    metrics.push({ label: '$ per M output tokens (GPUs used)', value: (r) => r.usdPerMTok, format: (v) => `$${v.toFixed(2)}`, unit: { prefix: '$' } });
  }
  return metrics;
}

/**
 * A panel title in two lines, so that it fits its panel: the name, then its unit in parentheses (`Mean TTFT` / `(ms)`),
 * or, without one, the words split where the lines come out most even.
 */
export function twoLineTitle(text: string): [string, string] {
  const paren = text.indexOf(' (');
  if (paren > 0) return [text.slice(0, paren), text.slice(paren + 1)];
  const words = text.split(' ');
  let best: [string, string] = [text, ''];
  for (let i = 1; i < words.length; i++) {
    const split: [string, string] = [words.slice(0, i).join(' '), words.slice(i).join(' ')];
    if (best[1] === '' || Math.max(...split.map((l) => l.length)) < Math.max(...best.map((l) => l.length))) best = split;
  }
  return best;
}

const LEGEND_FONT_SIZE = 11;

/**
 * Legend columns that fit README_WIDTH: Vega puts the legend above the panels, from the left edge of the first one,
 * that is after the configuration names, and sizes each column by its longest label (at Vega's estimate).
 */
function legendColumns(tables: readonly WorkloadTable[], series: readonly string[]): number {
  const names = Math.max(...tables.flatMap((t) => t.rows.map((r) => `${r.configuration} (baseline)`.length)));
  const column = Math.max(...series.map((s) => s.length)) * VEGA_CHAR_EM * LEGEND_FONT_SIZE + 30;
  const free = README_WIDTH - 2 * PADDING - names * VEGA_CHAR_EM * LABEL_FONT_SIZE;
  return Math.max(1, Math.min(series.length, Math.floor(free / column)));
}

/** As many rows of bar panels as the metrics need at two a row, filled evenly (6 → 2 + 2 + 2, 4 → 2 + 2). */
export function barsPerRow(metrics: number): number {
  return Math.ceil(metrics / Math.ceil(metrics / MAX_BARS_PER_ROW));
}

/**
 * The width of each bar panel so that a row of them, with the configuration names on the left of its first panel,
 * fits README_WIDTH (within the panel's bounds: below the minimum a chart with long names grows wider instead).
 */
export function barPanelWidth(perRow: number, longestName: number): number {
  const labels = Math.ceil(longestName * VEGA_CHAR_EM * LABEL_FONT_SIZE) + 8;
  const free = README_WIDTH - 2 * PADDING - labels - (perRow - 1) * BAR_SPACING;
  return Math.max(BAR_PANEL_WIDTH.min, Math.min(BAR_PANEL_WIDTH.max, Math.floor(free / perRow)));
}

/** The Vega-Lite specification of the whole chart: a block per workload, stacked. */
export function chartSpec(tables: readonly WorkloadTable[]): ChartSpec {
  const series = [...new Set(tables.flatMap((t) => t.rows.map((r) => r.experiment)))];
  const sweeps: string[] = [];
  const pointLabelMarks: string[] = [];
  const color = {
    field: 'experiment', type: 'nominal', title: 'Configuration',
    scale: { scheme: PALETTE_SCHEME, domain: series },
    // The bars name their configuration on the left; only the sweep's lines need a legend, above the panels (to
    // their right it would widen every row by its longest name).
    legend: tables.some((t) => new Set(t.rows.map((r) => r.concurrency)).size > 1)
      ? { orient: 'top', direction: 'horizontal', columns: legendColumns(tables, series), labelLimit: 0, symbolType: 'square' }
      : null,
  };
  const blocks = tables.map((table, ti) => {
    const workload = workloadTitle(table);
    const metrics = barMetrics(table);
    const perRow = barsPerRow(metrics.length);
    const longestName = Math.max(...table.rows.map((r) => (r.configuration + (r.configuration === table.baseline ? ' (baseline)' : '')).length));
    const panelWidth = barPanelWidth(perRow, longestName);
    const bars = metrics.map((metric, mi) => {
      const values: Datum[] = table.rows.flatMap((r) => {
        const value = metric.value(r);
        return value === null ? [] : [{
          workload, configuration: r.configuration + (r.configuration === table.baseline ? ' (baseline)' : ''), experiment: r.experiment,
          concurrency: r.concurrency, metric: metric.label, value, label: metric.format(value), outputThroughput: r.values.outputThroughput, latency: value,
        }];
      });
      const max = Math.max(0, ...values.map((v) => v.value)) || 1;
      // Room to the right of the longest bar for its value label, so no label leaves the panel.
      // Ticks carry their unit; the outer ones sit flush with the panel's ends, so none reaches into the next panel.
      const x = {
        field: 'value', type: 'quantitative', title: null, scale: { domain: [0, max * 1.3], nice: false },
        axis: { tickCount: 3, labelExpr: tickLabelExpr(metric.unit), labelFlush: true, labelOverlap: true, labelBound: true },
      };
      // Only the first panel of a row names the configurations; the others have no y axis at all (not even its padding).
      const y = { field: 'configuration', type: 'nominal', title: null, sort: null, axis: mi % perRow === 0 ? { labelLimit: 0 } : null };
      return {
        title: { text: twoLineTitle(metric.label), fontSize: PANEL_TITLE_FONT_SIZE },
        width: panelWidth,
        height: { step: BAR_STEP },
        data: { values },
        layer: [
          { mark: { type: 'bar' }, encoding: { x, y, color, tooltip: [{ field: 'configuration' }, { field: 'value', type: 'quantitative' }] } },
          { mark: { type: 'text', align: 'left', baseline: 'middle', dx: 3, fontSize: 10 }, encoding: { x, y, text: { field: 'label' } } },
        ],
      };
    });
    const concurrencies = new Set(table.rows.map((r) => r.concurrency));
    const panels: object[] = [];
    for (let i = 0; i < bars.length; i += perRow) panels.push({ hconcat: bars.slice(i, i + perRow), spacing: BAR_SPACING });
    if (concurrencies.size > 1) {
      sweeps.push(workload);
      // One line panel a row: Vega-Lite aligns the rows at the left edge of their plots, after the bars'
      // configuration names, so two side by side would overrun README_WIDTH.
      panels.push(...SWEEP_LATENCIES.map((key, li) => {
          const name = `sweep${ti}_${li}`;
          pointLabelMarks.push(`${name}_labels_marks`);
          const values: Datum[] = table.rows.map((r) => ({
            workload, configuration: r.configuration, experiment: r.experiment, concurrency: r.concurrency, metric: metricLabel(key),
            value: r.values[key], label: `c=${r.concurrency}`, outputThroughput: r.values.outputThroughput, latency: r.values[key],
          }));
          const x = {
            field: 'outputThroughput', type: 'quantitative', title: metricLabel('outputThroughput'), scale: { zero: false, nice: true },
            axis: { tickCount: 4, labelExpr: tickLabelExpr(METRIC_UNITS.outputThroughput), labelFlush: true, labelOverlap: true },
          };
          const y = {
            field: 'latency', type: 'quantitative', title: metricLabel(key), scale: { zero: false, nice: true },
            axis: { labelExpr: tickLabelExpr(METRIC_UNITS[key]), labelOverlap: true },
          };
          return {
            title: { text: [`${metricLabel(key)} vs`, 'output throughput, by concurrency'], fontSize: PANEL_TITLE_FONT_SIZE },
            width: LINE_PANEL.width, height: LINE_PANEL.height,
            data: { values },
            layer: [
              { name: `${name}_lines`, mark: { type: 'line', strokeWidth: 2 }, encoding: { x, y, color, order: { field: 'concurrency', type: 'quantitative' } } },
              { name: `${name}_points`, mark: { type: 'point', filled: true, size: 50 }, encoding: { x, y, color, tooltip: [{ field: 'configuration' }, { field: 'outputThroughput' }, { field: 'latency' }] } },
              { name: `${name}_labels`, mark: { type: 'text', fontSize: 9 }, encoding: { x, y, text: { field: 'label' } } },
            ],
          };
        }));
    }
    return { title: { text: workload, anchor: 'start', fontSize: 14 }, vconcat: panels, spacing: 16 };
  });
  return {
    vegaLite: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      background: 'white',
      padding: PADDING,
      config: { font: FONT_FAMILY, view: { stroke: null }, axis: { labelFontSize: LABEL_FONT_SIZE, titleFontSize: 11 }, legend: { labelFontSize: LEGEND_FONT_SIZE, titleFontSize: 12 } },
      vconcat: blocks,
      spacing: 28,
      resolve: { scale: { color: 'shared' } },
    },
    series, sweeps, pointLabelMarks,
  };
}

type VegaSpec = Record<string, unknown>;
interface VegaMark { name?: string; type?: string; from?: { data?: string }; encode?: Record<string, Record<string, unknown>>; transform?: object[]; marks?: VegaMark[] }

/**
 * Vega-Lite places text marks where their data say; Vega's label transform (vega-label) moves each label to the
 * first free spot around its point and hides one that has none, so point labels never overlap each other. The
 * transform needs the text mark to read the point mark's items, which Vega-Lite cannot express: rewire the
 * compiled Vega. avoidBaseMark is off because avoiding marks rasterizes them with a canvas, which headless Node
 * does not have; labels then avoid each other but may cross a line.
 */
export function withLabelPlacement(vega: VegaSpec, labelMarks: readonly string[]): VegaSpec {
  const found = new Set<string>();
  const visit = (marks: VegaMark[] | undefined): void => {
    for (const mark of marks ?? []) {
      if (mark.name !== undefined && labelMarks.includes(mark.name)) {
        const points = mark.name.replace(/_labels_marks$/, '_points_marks');
        const update = mark.encode?.update ?? {};
        mark.from = { data: points };
        mark.encode = {
          enter: { fontSize: { value: 9 }, fill: { value: '#333' } },
          update: { text: { signal: '\'c=\' + datum.datum.concurrency' }, ...(update.fontSize ? { fontSize: update.fontSize } : {}) },
        };
        mark.transform = [{
          type: 'label', size: [LINE_PANEL.width, LINE_PANEL.height], avoidBaseMark: false,
          anchor: ['top-right', 'bottom-right', 'top-left', 'bottom-left', 'right', 'left', 'top', 'bottom'], offset: [3],
        }];
        found.add(mark.name);
      }
      visit(mark.marks);
    }
  };
  visit(vega.marks as VegaMark[] | undefined);
  const missing = labelMarks.filter((m) => !found.has(m));
  // Vega-Lite named the marks differently than expected: better to fail than draw overlapping labels unnoticed.
  if (missing.length > 0) throw new Error(`chart: the compiled Vega spec has no text mark ${missing.join(', ')} to place labels on`);
  return vega;
}

// tsc compiles `import()` to `require()` for CommonJS output, and require() cannot load vega's ES modules on every
// Node this package supports (>= 20): keep a real dynamic import in the compiled JavaScript.
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- a constant body, no input is evaluated
const importModule = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

export interface VegaView {
  toSVG(): Promise<string>;
  runAsync(): Promise<unknown>;
  scenegraph(): { root: unknown };
  finalize(): void;
}
export interface VegaModule {
  parse(spec: VegaSpec): unknown;
  View: new (runtime: unknown, options: { renderer: 'none' }) => VegaView;
}

/** Vega itself (an ES module), loaded on first use. */
export function loadVega(): Promise<VegaModule> {
  return importModule('vega') as Promise<VegaModule>;
}
interface VegaLiteModule { compile(spec: object): { spec: VegaSpec } }
interface ResvgModule {
  Resvg: new (svg: string, options: object) => { render(): { asPng(): Buffer; width: number; height: number } };
}

/** The Vega specification, ready to run: compiled from chartSpec's Vega-Lite, with the labels placed. */
export async function compileChart(tables: readonly WorkloadTable[]): Promise<{ spec: ChartSpec; vega: VegaSpec }> {
  const spec = chartSpec(tables);
  const vl = await importModule('vega-lite') as VegaLiteModule;
  return { spec, vega: withLabelPlacement(vl.compile(spec.vegaLite).spec, spec.pointLabelMarks) };
}

export async function renderChart(tables: readonly WorkloadTable[]): Promise<RenderedChart> {
  const { spec, vega: compiled } = await compileChart(tables);
  const vega = await loadVega();
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  let svg: string;
  try {
    svg = await view.toSVG();
  } finally {
    view.finalize();
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a native addon with a CommonJS entry point
  const { Resvg } = require('@resvg/resvg-js') as ResvgModule;
  const font = require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf');
  const bold = require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf');
  const rendered = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: PNG_ZOOM },
    font: { fontFiles: [font, bold], loadSystemFonts: false, defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY },
  }).render();
  const warnings = spec.series.length > PALETTE_SIZE
    ? [`the chart has ${spec.series.length} configurations but ${PALETTE_SIZE} distinct colours (${PALETTE_SCHEME}): colours repeat, read the legend order`]
    : [];
  return { svg, png: rendered.asPng(), width: rendered.width, height: rendered.height, series: spec.series, warnings };
}

/** The old name: the SVG alone. */
export async function renderChartSvg(tables: readonly WorkloadTable[]): Promise<string> {
  return (await renderChart(tables)).svg;
}
