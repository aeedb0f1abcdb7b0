/**
 * The report's chart as Vega-Lite draws it: the SVG parsed as XML by Python's standard library (a parser that is
 * not the one that wrote it), the PNG's header read byte by byte, and label placement checked on Vega's own
 * scenegraph (the bounds it computed for every text it drew).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runReport } from '../../lib/report';
import {
  barsPerRow, chartSpec, compileChart, loadVega, PALETTE_SCHEME, PALETTE_SIZE, PANEL_TITLE_FONT_SIZE, PNG_ZOOM, README_WIDTH, renderChart,
  twoLineTitle, VEGA_CHAR_EM,
} from '../../lib/report/chart';
import { BenchResult, ResultLayout } from '../../lib/report/results';
import { buildTables, WorkloadTable } from '../../lib/report/table';

const root = join(__dirname, '..', '..');
/** The reference profile's collocated layout: 4 of 16 GPUs of p5.48xlarge in us-east-1, so tokens per GPU and dollars are known. */
const SAMPLE_LAYOUT: ResultLayout = {
  gpus: 4, clusterGpus: 16, layout: '1 × TP4', router: 'power-of-two', gpuInstanceType: 'p5.48xlarge', region: 'us-east-1',
  profile: 'reference', source: 'profile reference',
};

const result = (experiment: string, concurrency: number, out: number, tpot: number, ttft: number): BenchResult => ({
  file: `x/${experiment}/conc${concurrency}.json`, served: 'gptoss', inputLen: 8000, outputLen: 1000, mode: 'mixed', experiment, concurrency,
  completed: 320, requestThroughput: out / 1000, outputThroughput: out, meanTtftMs: ttft, meanTpotMs: tpot,
  percentiles: { p50TtftMs: null, p99TtftMs: null, p50TpotMs: null, p99TpotMs: null },
  context: { sidecar: false, evidence: null, evidenceError: null, kind: null, usesLmcache: null, usesNixl: null, nixlBackend: null, providers: null },
});

/** n configurations at each of the concurrencies, with throughput and latency growing with concurrency. */
function study(n: number, concurrencies: readonly number[], spread = 40): BenchResult[] {
  return Array.from({ length: n }, (_, i) => `config-${String(i + 1).padStart(2, '0')}`).flatMap((e, i) =>
    concurrencies.map((c, k) => result(e, c, 800 * (k + 1) + spread * i, 10 + 3 * k + 0.2 * i, 400 + 300 * k + 10 * i)));
}

interface SvgFacts { texts: Record<string, string[]>; lineGroups: Record<string, string[]>; legendFills: string[]; width: number; height: number }

/** Python's xml.etree parses the SVG (so it is well-formed XML) and reports its texts by role and its lines. */
function parseSvg(svg: string): SvgFacts {
  const py = `
import json, sys, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.read())
ns = '{http://www.w3.org/2000/svg}'
texts, lines, fills = {}, {}, []
def walk(el, cls):
    c = el.get('class') or cls
    if el.tag == ns + 'text':
        texts.setdefault(cls, []).append(' '.join(t for t in el.itertext() if t.strip()))
    if el.tag == ns + 'path' and 'mark-line' in cls:
        lines.setdefault(cls.split()[-1], []).append(el.get('stroke'))
    if el.tag == ns + 'path' and 'role-legend-symbol' in cls:
        fills.append(el.get('fill'))
    for child in el:
        walk(child, c if el.tag == ns + 'g' and el.get('class') else cls)
walk(root, '')
print(json.dumps({'texts': texts, 'lineGroups': lines, 'legendFills': fills, 'width': float(root.get('width')), 'height': float(root.get('height'))}))
`;
  const run = spawnSync('python3', ['-c', py], { input: svg, encoding: 'utf8' });
  assert.equal(run.status, 0, `not well-formed XML: ${run.stderr}`);
  return JSON.parse(run.stdout) as SvgFacts;
}

/** Width and height from the PNG's IHDR chunk, after checking the 8-byte signature. */
function pngSize(png: Buffer): { width: number; height: number } {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  assert.equal(png.subarray(12, 16).toString('latin1'), 'IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

interface Box { text: string; x1: number; y1: number; x2: number; y2: number }
interface SceneItem { x?: number; y?: number; text?: unknown; opacity?: number; bounds?: { x1: number; y1: number; x2: number; y2: number }; items?: SceneItem[]; marktype?: string }

/** Every visible text Vega placed, in chart coordinates (its scenegraph's bounds, offset by the enclosing groups). */
async function visibleTexts(tables: readonly WorkloadTable[]): Promise<Box[]> {
  const { vega: compiled } = await compileChart(tables);
  const vega = await loadVega();
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  await view.runAsync();
  const boxes: Box[] = [];
  const walk = (node: SceneItem, dx: number, dy: number, isText: boolean): void => {
    const text = Array.isArray(node.text) ? node.text.join(' ') : typeof node.text === 'string' || typeof node.text === 'number' ? String(node.text) : '';
    if (isText && node.bounds && node.opacity !== 0 && text !== '') {
      boxes.push({ text, x1: node.bounds.x1 + dx, y1: node.bounds.y1 + dy, x2: node.bounds.x2 + dx, y2: node.bounds.y2 + dy });
    }
    const [ox, oy] = node.marktype === undefined && node.items ? [dx + (node.x ?? 0), dy + (node.y ?? 0)] : [dx, dy];
    for (const child of node.items ?? []) walk(child, ox, oy, node.marktype === 'text');
  };
  walk(view.scenegraph().root as SceneItem, 0, 0, false);
  view.finalize();
  return boxes;
}

function overlaps(boxes: readonly Box[]): string[] {
  const found: string[] = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, b] = [boxes[i], boxes[j]];
      if (a.x1 < b.x2 - 0.5 && b.x1 < a.x2 - 0.5 && a.y1 < b.y2 - 0.5 && b.y1 < a.y2 - 0.5) found.push(`"${a.text}" × "${b.text}"`);
    }
  }
  return found;
}

/** Four configurations at one concurrency, drawn once and read by the tests about it. */
let oneConcurrencyChart: ReturnType<typeof renderChart> | undefined;
const oneConcurrency = (): ReturnType<typeof renderChart> => (oneConcurrencyChart ??= renderChart(buildTables(study(4, [64]))));

describe('report chart (Vega-Lite)', () => {
  it('writes well-formed SVG, a title per panel and a PNG of the SVG\'s size at the zoom; bars name their configurations, so only a sweep has a legend', async () => {
    const chart = await oneConcurrency();
    const svg = parseSvg(chart.svg);
    assert.equal(svg.texts['mark-text role-legend-label'], undefined, 'no legend beside bars that name their configuration');
    const names = ['config-01 (baseline)', 'config-02', 'config-03', 'config-04'];
    assert.deepEqual(svg.texts['mark-text role-axis-label'].filter((t) => t.startsWith('config-')), [...names, ...names], 'the names, once per row of panels');
    for (const metric of ['Request Throughput (req/s)', 'Output Token Throughput (tok/s)', 'Mean TTFT (ms)', 'Mean TPOT (ms)']) {
      assert.ok(svg.texts['mark-text role-title-text'].includes(metric), metric);
    }
    const sweep = parseSvg((await renderChart(buildTables(study(4, [64, 128])))).svg);
    assert.deepEqual(sweep.texts['mark-text role-legend-label'], ['config-01', 'config-02', 'config-03', 'config-04']);
    assert.deepEqual(sweep.texts['mark-text role-legend-title'], ['Configuration']);
    assert.ok(svg.texts['mark-text role-title-text'].includes('mixed: 8000 in / 1000 out tokens per request'));
    const png = pngSize(chart.png);
    assert.deepEqual(png, { width: Math.round(svg.width * PNG_ZOOM), height: Math.round(svg.height * PNG_ZOOM) });
    assert.ok(png.width > 800 && png.width < 8000 && png.height > 200 && png.height < 8000, JSON.stringify(png));
    assert.equal(chart.width, png.width);
  });

  it(`colours ${PALETTE_SIZE} configurations with ${PALETTE_SIZE} distinct colours (${PALETTE_SCHEME}) in a sweep's legend, and says when there are more`, async () => {
    const twenty = await renderChart(buildTables(study(20, [64, 128])));
    const fills = parseSvg(twenty.svg).legendFills;
    assert.equal(fills.length, 20);
    assert.equal(new Set(fills.map((f) => f.toLowerCase())).size, 20, fills.join(' '));
    assert.deepEqual(twenty.warnings, []);
    const more = await renderChart(buildTables(study(21, [64, 128])));
    assert.match(more.warnings.join('\n'), /21 configurations but 20 distinct colours \(tableau20\): colours repeat/);
  });

  it('draws a sweep\'s throughput-vs-latency chart, one line per configuration across its concurrencies', async () => {
    const chart = await renderChart(buildTables(study(3, [8, 16, 32, 64])));
    const svg = parseSvg(chart.svg);
    assert.deepEqual(Object.keys(svg.lineGroups).sort(), ['sweep0_0_lines_marks', 'sweep0_1_lines_marks'], 'TPOT and TTFT panels');
    for (const strokes of Object.values(svg.lineGroups)) {
      assert.equal(strokes.length, 3, 'one line per configuration');
      assert.equal(new Set(strokes).size, 3, 'each in its own colour');
    }
    assert.ok(svg.texts['mark-text role-title-text'].includes('Mean TPOT (ms) vs output throughput, by concurrency'));
    const pointLabels = svg.texts['mark-text role-mark sweep0_0_labels_marks'];
    assert.deepEqual([...new Set(pointLabels)].sort(), ['c=16', 'c=32', 'c=64', 'c=8']);
    assert.deepEqual(chartSpec(buildTables(study(3, [8, 16]))).sweeps, ['mixed: 8000 in / 1000 out tokens per request']);
  });

  it('draws no line chart for a study at one concurrency', async () => {
    const chart = await oneConcurrency();
    const svg = parseSvg(chart.svg);
    assert.deepEqual(svg.lineGroups, {});
    assert.ok(!chart.svg.includes('by concurrency'));
    assert.deepEqual(chartSpec(buildTables(study(4, [64]))).sweeps, []);
  });

  it('places labels so that no two visible texts overlap, even for crowded sweep points', async () => {
    // Close throughputs and latencies: at their data positions the point labels would sit on top of each other.
    const boxes = await visibleTexts(buildTables(study(6, [8, 16, 32, 64], 5)));
    assert.ok(boxes.some((b) => b.text === 'c=32'), 'some point labels are shown');
    assert.ok(boxes.length > 60, `${boxes.length} texts`);
    assert.deepEqual(overlaps(boxes), []);
  });
});

/** The sample's chart as `npm run report` draws it: the reference example's figures with the reference profile's layouts. */
let sample: Promise<{ svg: SvgFacts; png: Buffer; raw: string }> | undefined;
const sampleChart = (): Promise<{ svg: SvgFacts; png: Buffer; raw: string }> => (sample ??= drawSample());

async function drawSample(): Promise<{ svg: SvgFacts; png: Buffer; raw: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'chart-sample-'));
  cpSync(join(root, 'samples', 'reference-example'), dir, { recursive: true });
  const out = await runReport(dir, { json: false, chart: true, profile: 'reference' });
  assert.equal(out.exitCode, 0, out.stderr);
  const raw = readFileSync(join(dir, 'report.svg'), 'utf8');
  return { svg: parseSvg(raw), png: readFileSync(join(dir, 'report.png')), raw };
}

/** Five configurations at three concurrencies: the default full-cluster study, with its longest bar labels. */
const FULL_STUDY = ['collocated-baseline', 'collocated-lmcache', 'pd-nixl', 'pd-multiconnector', 'pd-prefill-lmcache'].flatMap((e, i) =>
  [64, 128, 256].map((c, k) => result(e, c, 3000 * (k + 1) + 200 * i, 15 + 5 * k + i, 1500 + 800 * k + 50 * i)));

describe('the chart\'s layout, at README width', () => {
  it(`fits ${README_WIDTH} px (its PNG twice that): the sample's six panels and a five-configuration sweep with its line charts`, async () => {
    const sample = await sampleChart();
    assert.ok(sample.svg.width <= README_WIDTH, `sample: ${sample.svg.width} px`);
    assert.deepEqual(pngSize(sample.png), { width: Math.round(sample.svg.width * PNG_ZOOM), height: Math.round(sample.svg.height * PNG_ZOOM) });
    const sweep = await renderChart(buildTables(FULL_STUDY));
    const sweepWidth = parseSvg(sweep.svg).width;
    assert.ok(sweepWidth <= README_WIDTH, `sweep: ${sweepWidth} px`);
    assert.ok(sweep.width <= README_WIDTH * PNG_ZOOM);
  });

  it('fills every row of bar panels: six metrics in three rows of two, four in two', () => {
    const rows = (results: readonly BenchResult[], layout?: Parameters<typeof buildTables>[1]) => {
      const block = (chartSpec(buildTables(results, layout)).vegaLite.vconcat as Array<{ vconcat: Array<{ hconcat?: unknown[] }> }>)[0];
      return block.vconcat.filter((r) => r.hconcat).map((r) => r.hconcat?.length);
    };
    assert.deepEqual(rows(study(4, [64])), [2, 2]);
    const withLayouts = buildTables(study(4, [64]), { fallbackLayout: () => ({ ...SAMPLE_LAYOUT }) });
    assert.equal(withLayouts[0].rows[0].usdPerMTok !== null, true);
    assert.deepEqual((chartSpec(withLayouts).vegaLite.vconcat as Array<{ vconcat: Array<{ hconcat?: unknown[] }> }>)[0].vconcat.map((r) => r.hconcat?.length), [2, 2, 2]);
    for (const [metrics, perRow] of [[4, 2], [5, 2], [6, 2], [2, 2], [1, 1]]) assert.equal(barsPerRow(metrics), perRow);
  });

  it('gives every axis tick its unit, each formatted on its own (no 0k, 0.2k), and no two visible texts overlap', async () => {
    const { svg } = await sampleChart();
    const names = new Set(['collocated-baseline (baseline)', 'collocated-lmcache', 'pd-nixl', 'pd-multiconnector']);
    const ticks = svg.texts['mark-text role-axis-label'].filter((t) => !names.has(t));
    assert.ok(ticks.length >= 12, ticks.join(' | '));
    for (const t of ticks) assert.match(t, /^(\$\d+(\.\d+)?|\d+(\.\d+)?k? (req\/s|tok\/s|ms))$/, t);
    for (const t of ticks) assert.doesNotMatch(t, /^0k|^0\.\d+k/, t);
    for (const unit of ['req/s', 'tok/s', 'ms']) assert.ok(ticks.some((t) => t.endsWith(` ${unit}`)), unit);
    assert.ok(ticks.some((t) => t.startsWith('$')), '$');
    assert.ok(ticks.includes('1k ms') || ticks.includes('2k ms'), 'thousands as k');
    const boxes = await visibleTexts(buildTables(study(4, [64]), { fallbackLayout: () => ({ ...SAMPLE_LAYOUT }) }));
    assert.deepEqual(overlaps(boxes), []);
    assert.deepEqual(overlaps(await visibleTexts(buildTables(FULL_STUDY))), []);
  });

  it('titles each panel in lines that fit it at Vega\'s text estimate, so no title widens its column', () => {
    const spec = chartSpec(buildTables(FULL_STUDY, { fallbackLayout: () => ({ ...SAMPLE_LAYOUT }) }));
    const panels: Array<{ title: { text: string | string[] }; width: number }> = [];
    const visit = (node: unknown): void => {
      if (Array.isArray(node)) { node.forEach(visit); return; }
      if (node === null || typeof node !== 'object') return;
      const n = node as Record<string, unknown>;
      if (typeof n.width === 'number' && n.title) panels.push(n as unknown as (typeof panels)[number]);
      Object.values(n).forEach(visit);
    };
    visit(spec.vegaLite);
    assert.ok(panels.length >= 8, `${panels.length} panels`);
    for (const p of panels) {
      const lines = Array.isArray(p.title.text) ? p.title.text : [p.title.text];
      for (const line of lines) assert.ok(line.length * VEGA_CHAR_EM * PANEL_TITLE_FONT_SIZE <= p.width, `"${line}" in ${p.width} px`);
    }
    assert.deepEqual(twoLineTitle('Mean TTFT (ms)'), ['Mean TTFT', '(ms)']);
    assert.deepEqual(twoLineTitle('Output tok/s per GPU'), ['Output tok/s', 'per GPU']);
  });
});

describe('the CDK app and the chart', () => {
  it('loads none of the report\'s modules, so a synth never pays for vega', () => {
    const root = join(__dirname, '..', '..');
    const script = 'require("./lib/app"); console.log(JSON.stringify(Object.keys(require.cache)))';
    const run = spawnSync(process.execPath, ['-r', './bin/register-ts.js', '-e', script], { cwd: root, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const loaded = JSON.parse(run.stdout) as string[];
    assert.ok(loaded.some((p) => p.endsWith(join('lib', 'app.ts'))), 'the app was loaded');
    assert.deepEqual(loaded.filter((p) => p.includes(join('lib', 'report')) || /node_modules\/(vega|@resvg|dejavu)/.test(p)), []);
  });
});
