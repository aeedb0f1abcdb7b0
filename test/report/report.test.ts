import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { EXIT_SKIPPED, parseResultFolder, runReport } from '../../lib/report';

/** The brief's four results at concurrency 64: 320 requests of 8000 in / 1000 out. */
const BRIEF = {
  'collocated-baseline': [3.09, 3092.52, 1858.70, 18.78],
  'collocated-lmcache': [2.76, 2759.43, 2603.58, 20.53],
  'pd-nixl': [4.35, 4354.03, 1217.11, 12.83],
  'pd-multiconnector': [3.70, 3697.97, 1481.06, 15.20],
} as const;

function vllmResult([req, out, ttft, tpot]: readonly number[]): object {
  return {
    date: '20251101-120000', backend: 'vllm', model_id: 'openai/gpt-oss-120b', num_prompts: 320, request_rate: 'inf',
    max_concurrency: 64, duration: 320 / req, completed: 320, failed: 0, total_input_tokens: 2_560_000,
    total_output_tokens: 320_000, request_throughput: req, output_throughput: out, total_token_throughput: out * 9,
    mean_ttft_ms: ttft, median_ttft_ms: ttft, std_ttft_ms: 1, p99_ttft_ms: ttft * 2,
    mean_tpot_ms: tpot, median_tpot_ms: tpot, std_tpot_ms: 1, p99_tpot_ms: tpot * 2,
    mean_itl_ms: tpot, median_itl_ms: tpot, std_itl_ms: 1, p99_itl_ms: tpot * 2,
  };
}

function briefResults(): string {
  const dir = mkdtempSync(join(tmpdir(), 'report-'));
  for (const [exp, values] of Object.entries(BRIEF)) {
    const folder = join(dir, `gptoss_itl8000_otl1000_mixed_${exp}`);
    mkdirSync(folder);
    writeFileSync(join(folder, 'conc64.json'), JSON.stringify(vllmResult(values)));
  }
  return dir;
}

describe('results report', () => {
  it('prints the brief\'s table with two decimals, in the brief\'s order', () => {
    const out = runReport(briefResults(), { json: false, chart: false });
    assert.equal(out.exitCode, 0);
    assert.ok(out.stdout.includes('| Configuration | Request Throughput (req/s) | Output Token Throughput (tok/s) | Mean TTFT (ms) | Mean TPOT (ms) |'));
    const rows = out.stdout.split('\n').filter((l) => /^\| (collocated|pd)-/.test(l));
    assert.deepEqual(rows.slice(0, 4), [
      '| collocated-baseline | 3.09 | 3092.52 | 1858.70 | 18.78 |',
      '| collocated-lmcache | 2.76 | 2759.43 | 2603.58 | 20.53 |',
      '| pd-nixl | 4.35 | 4354.03 | 1217.11 | 12.83 |',
      '| pd-multiconnector | 3.70 | 3697.97 | 1481.06 | 15.20 |',
    ]);
    assert.ok(rows.includes('| pd-nixl | +40.78% | +40.79% | -34.52% | -31.68% |'), rows.join('\n'));
    assert.ok(rows.includes('| collocated-baseline | baseline | baseline | baseline | baseline |'));
  });

  it('prints the same as JSON with --json', () => {
    const out = runReport(briefResults(), { json: true, chart: false });
    const doc = JSON.parse(out.stdout);
    assert.equal(doc.workloads.length, 1);
    const [w] = doc.workloads;
    assert.deepEqual([w.mode, w.inputLen, w.outputLen, w.baseline], ['mixed', 8000, 1000, 'collocated-baseline']);
    const pd = w.rows.find((r: { configuration: string }) => r.configuration === 'pd-nixl');
    assert.deepEqual(pd.values, { requestThroughput: 4.35, outputThroughput: 4354.03, meanTtftMs: 1217.11, meanTpotMs: 12.83 });
    assert.equal(pd.change.requestThroughput, 40.78);
    assert.deepEqual(doc.skipped, []);
  });

  it('writes an SVG chart comparing the configurations next to the results', () => {
    const dir = briefResults();
    const out = runReport(dir, { json: false, chart: true });
    assert.equal(out.chartPath, join(dir, 'report.svg'));
    const svg = readFileSync(join(dir, 'report.svg'), 'utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.equal((svg.match(/<\/title><\/rect>/g) ?? []).length, 16, 'one bar per metric and config: 4 × 4');
    for (const exp of Object.keys(BRIEF)) assert.ok(svg.includes(exp), exp);
  });

  it('reports malformed and incomplete files with their path, skips them, prints the rest and exits 2', () => {
    const dir = briefResults();
    const broken = join(dir, 'gptoss_itl8000_otl1000_mixed_broken', 'conc64.json');
    mkdirSync(join(dir, 'gptoss_itl8000_otl1000_mixed_broken'));
    writeFileSync(broken, '{"request_throughput": 1.0,');
    const partial = join(dir, 'gptoss_itl8000_otl1000_mixed_partial', 'conc64.json');
    mkdirSync(join(dir, 'gptoss_itl8000_otl1000_mixed_partial'));
    writeFileSync(partial, JSON.stringify({ completed: 3, request_throughput: 1, output_throughput: 2 }));
    const out = runReport(dir, { json: false, chart: false });
    assert.equal(out.exitCode, EXIT_SKIPPED);
    assert.match(out.stderr, new RegExp(`skipped ${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid JSON`));
    assert.match(out.stderr, /partial\/conc64\.json: missing or non-numeric mean_ttft_ms, mean_tpot_ms/);
    assert.match(out.stdout, /\| pd-nixl \| 4\.35 \|/);
  });

  it('keeps workloads apart, each with its own baseline', () => {
    const dir = briefResults();
    const folder = join(dir, 'gptoss_itl12500_otl100_prefix-reuse_collocated-lmcache');
    mkdirSync(folder);
    writeFileSync(join(folder, 'conc64.json'), JSON.stringify(vllmResult([5, 500, 300, 10])));
    const doc = JSON.parse(runReport(dir, { json: true, chart: false }).stdout);
    assert.deepEqual(doc.workloads.map((w: { mode: string }) => w.mode), ['mixed', 'prefix-reuse']);
    assert.equal(doc.workloads[1].baseline, 'collocated-lmcache');
  });

  it('names rows by concurrency when a folder holds a sweep', () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-'));
    const folder = join(dir, 'my_model_itl100_otl10_mixed_x');
    mkdirSync(folder);
    writeFileSync(join(folder, 'conc8.json'), JSON.stringify(vllmResult([1, 10, 100, 5])));
    writeFileSync(join(folder, 'conc16.json'), JSON.stringify(vllmResult([2, 20, 120, 6])));
    const doc = JSON.parse(runReport(dir, { json: true, chart: false }).stdout);
    assert.deepEqual(doc.workloads[0].rows.map((r: { configuration: string }) => r.configuration), ['x @ c=8', 'x @ c=16']);
  });

  it('parses folder names whose served name contains underscores', () => {
    assert.deepEqual(parseResultFolder('my_model_itl8000_otl1000_mixed_pd-nixl'),
      { served: 'my_model', inputLen: 8000, outputLen: 1000, mode: 'mixed', experiment: 'pd-nixl' });
    assert.equal(parseResultFolder('not-a-result-folder'), undefined);
  });

  it('npm run report exits 2 when something was skipped and 1 when nothing is usable', () => {
    const repo = resolve(__dirname, '..', '..');
    const dir = briefResults();
    mkdirSync(join(dir, 'gptoss_itl8000_otl1000_mixed_bad'));
    writeFileSync(join(dir, 'gptoss_itl8000_otl1000_mixed_bad', 'conc64.json'), 'nope');
    const tsx = join(repo, 'node_modules', '.bin', 'tsx');
    const r = spawnSync(tsx, [join(repo, 'scripts', 'report.ts'), dir], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stdout, /\| pd-multiconnector \| 3\.70 \| 3697\.97 \| 1481\.06 \| 15\.20 \|/);
    assert.ok(existsSync(join(dir, 'report.svg')));
    const empty = spawnSync(tsx, [join(repo, 'scripts', 'report.ts'), mkdtempSync(join(tmpdir(), 'empty-'))], { encoding: 'utf8' });
    assert.equal(empty.status, 1);
    assert.match(empty.stderr, /no usable conc<N>\.json/);
  });
});
