import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { GPU_INSTANCES } from '../../lib/catalog/instances';
import { INSTANCE_PRICES } from '../../lib/catalog/prices';
import { PUBLISHED_RESULTS, REFERENCE_EXAMPLE } from '../../lib/catalog/reference-example';
import { EXIT_SKIPPED, parseResultFolder, runReport } from '../../lib/report';

type Json = any;

/** A `vllm bench serve --save-result` file with the four figures the report reads. */
function vllmResult([req, out, ttft, tpot]: readonly number[], concurrency = 64): object {
  return {
    date: '20251101-120000', backend: 'vllm', model_id: 'openai/gpt-oss-120b', num_prompts: 320, request_rate: 'inf',
    max_concurrency: concurrency, duration: 320 / req, completed: 320, failed: 0, total_input_tokens: 2_560_000,
    total_output_tokens: 320_000, request_throughput: req, output_throughput: out, total_token_throughput: out * 9,
    mean_ttft_ms: ttft, median_ttft_ms: ttft, std_ttft_ms: 1, p99_ttft_ms: ttft * 2,
    mean_tpot_ms: tpot, median_tpot_ms: tpot, std_tpot_ms: 1, p99_tpot_ms: tpot * 2,
  };
}

/**
 * The reference example's published table (lib/catalog/reference-example.ts) as result folders named the way the
 * example names its own (gptoss_itl8000_otl1000_mixed_gptoss-tp4-baseline/conc64.json), with no sidecar: generated
 * from the catalog, not copied from upstream.
 */
function publishedResults(): string {
  const dir = mkdtempSync(join(tmpdir(), 'report-'));
  for (const r of PUBLISHED_RESULTS) {
    const folder = join(dir, `gptoss_itl8000_otl1000_mixed_${r.publishedExperiment}`);
    mkdirSync(folder);
    writeFileSync(join(folder, 'conc64.json'), JSON.stringify(vllmResult([r.requestThroughput, r.outputThroughput, r.meanTtftMs, r.meanTpotMs])));
  }
  return dir;
}

/** A layout section as run_all.sh records it beside each result. */
function layoutSection(gpus: number, overrides: Json = {}): Json {
  return {
    schema: 1, profile: 'full-cluster', layout: gpus === 16 ? '4 × TP4' : `${gpus / 4} × TP4`, gpus, clusterGpus: 16, gpuNodes: 2,
    gpuInstanceType: 'p5.48xlarge', gpusPerNode: 8, region: 'us-east-1', router: { name: 'power-of-two' }, ...overrides,
  };
}

function withSidecars(points: readonly [string, number, readonly number[], Json][]): string {
  const dir = mkdtempSync(join(tmpdir(), 'report-'));
  for (const [exp, c, values, layout] of points) {
    const folder = join(dir, `gptoss_itl8000_otl1000_mixed_${exp}`);
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `conc${c}.json`), JSON.stringify(vllmResult(values, c)));
    writeFileSync(join(folder, `conc${c}.meta.json`), JSON.stringify({ schema: 1, result: `conc${c}.json`, layout }));
  }
  return dir;
}

const rowsOf = (stdout: string): string[] => stdout.split('\n').filter((l) => /^\| (collocated|pd)-/.test(l));
const json = async (dir: string, extra: Json = {}): Promise<Json> => JSON.parse((await runReport(dir, { json: true, chart: false, ...extra })).stdout);
/** $ per million output tokens from the price table itself, as the report must compute it. */
const perMillion = (type: string, region: string, gpus: number, tokPerS: number) =>
  Math.round((INSTANCE_PRICES[type][region] / GPU_INSTANCES[type].gpus) * gpus / (tokPerS * 3600) * 1e6 * 100) / 100;

describe('results report', () => {
  it('reproduces the reference example\'s table with --profile reference, with GPUs, tokens per GPU and dollars per million tokens beside it', async () => {
    const out = await runReport(publishedResults(), { json: false, chart: false, profile: 'reference' });
    assert.equal(out.exitCode, 0, out.stderr);
    assert.ok(out.stdout.includes('| Configuration | Request Throughput (req/s) | Output Token Throughput (tok/s) | Mean TTFT (ms) | Mean TPOT (ms) | GPUs |'));
    const rows = rowsOf(out.stdout).slice(0, 4);
    const [type, region] = [REFERENCE_EXAMPLE.gpuInstanceType, 'us-east-1'];
    assert.deepEqual(rows, PUBLISHED_RESULTS.map((r) => {
      const tokPerGpu = (r.outputThroughput / r.gpus).toFixed(2);
      return `| ${r.experiment} | ${r.requestThroughput.toFixed(2)} | ${r.outputThroughput.toFixed(2)} | ${r.meanTtftMs.toFixed(2)} | ` +
        `${r.meanTpotMs.toFixed(2)} | ${r.gpus} | ${tokPerGpu} | $${perMillion(type, region, r.gpus, r.outputThroughput).toFixed(2)} | ` +
        `$${perMillion(type, region, 16, r.outputThroughput).toFixed(2)} | ${r.kind === 'pd' ? '1P × TP4 + 1D × TP4' : '1 × TP4'} | power-of-two |`;
    }));
    // The figures the issue quotes: 3093 / 4 = 773 and 4354 / 8 = 544 tokens per GPU; $6.88 per GPU-hour.
    assert.ok(rows[0].includes('| 4 | 773.13 | $2.47 | $9.89 |'), rows[0]);
    assert.ok(rows[2].includes('| 8 | 544.25 | $3.51 | $7.02 |'), rows[2]);
    assert.match(out.stdout, /This table mixes layouts of 4 and 8 GPUs \(profile reference\)/);
    assert.match(out.stdout, /Price: p5\.48xlarge in us-east-1, \$55\.04\/h on demand = \$6\.8800 per GPU-hour; source: the cost review's price table/);
    assert.match(out.stdout, /Layouts \(GPUs, replicas × TP, router\): profile reference\./);
  });

  it('shows the per-GPU reversal: PD + NIXL is +41% raw but 30% fewer tokens per GPU than the baseline, and compares raw figures only at equal GPUs', async () => {
    const doc = await json(publishedResults(), { profile: 'reference' });
    const [w] = doc.workloads;
    const row = (e: string): Json => w.rows.find((r: Json) => r.experiment === e);
    assert.deepEqual(w.gpuCounts, [4, 8]);
    // Raw: PD is compared with PD (equal GPUs), never with the 4-GPU baseline.
    assert.equal(row('pd-nixl').baseline, 'pd-nixl');
    assert.equal(row('pd-multiconnector').baseline, 'pd-nixl');
    assert.equal(row('pd-multiconnector').change.requestThroughput, -14.94);
    assert.equal(row('collocated-lmcache').baseline, 'collocated-baseline');
    // Per GPU and per dollar: across GPU counts against the baseline at equal concurrency.
    assert.equal(row('pd-nixl').normalizedBaseline, 'collocated-baseline');
    assert.equal(row('pd-nixl').normalizedChange.tokPerGpu, -29.6);
    assert.ok(row('pd-nixl').normalizedChange.usdPerMTok > 40, JSON.stringify(row('pd-nixl').normalizedChange));
    assert.equal(Math.round(((4354.03 / 3092.52) - 1) * 10000) / 100, 40.79, 'the example\'s headline, which the table no longer prints as a comparison');
    assert.match(w.summary, /collocated-baseline at concurrency 64 on 4 GPUs .* gave the most output tokens per dollar: \$2\.47 per million/);
  });

  it('reads GPUs, layout and router from the sidecar beside each result, and compares the full-cluster layouts at equal GPU count', async () => {
    const dir = withSidecars([
      ['collocated-baseline', 256, [9.5, 9500, 1900, 25], layoutSection(16)],
      ['pd-nixl', 256, [11, 11000, 1500, 20], layoutSection(16, { layout: '2P × TP4 + 2D × TP4' })],
      ['pd-prefill-lmcache', 256, [12, 12000, 2500, 19], layoutSection(16, { layout: '2P × TP4 + 2D × TP4', router: { name: 'prefix-aware' } })],
    ]);
    const doc = await json(dir);
    const [w] = doc.workloads;
    assert.deepEqual(w.gpuCounts, [16]);
    assert.deepEqual(w.notes, [], 'one GPU count, nothing idle: no warning');
    const pd = w.rows.find((r: Json) => r.experiment === 'pd-nixl');
    assert.equal(pd.baseline, 'collocated-baseline');
    assert.equal(pd.change.outputThroughput, 15.79);
    assert.equal(pd.tokPerGpu, 687.5);
    assert.equal(pd.usdPerMTok, perMillion('p5.48xlarge', 'us-east-1', 16, 11000));
    assert.equal(pd.layout.source, 'sidecar');
    assert.equal(w.rows.find((r: Json) => r.experiment === 'pd-prefill-lmcache').layout.router, 'prefix-aware');
    // The cheapest (pd-prefill-lmcache) misses the 2000 ms TTFT budget; a looser budget picks it.
    assert.match(w.summary, /within mean TTFT ≤ 2000 ms and mean TPOT ≤ 50 ms, pd-nixl at concurrency 256 on 16 GPUs \(2P × TP4 \+ 2D × TP4, power-of-two router\)/);
    assert.match(w.summary, /2 of 3 results met the budget; pd-prefill-lmcache did not/);
    const loose = (await json(dir, { budget: { meanTtftMs: 3000, meanTpotMs: 50 } })).workloads[0];
    assert.match(loose.summary, /pd-prefill-lmcache at concurrency 256 on 16 GPUs/);
    const tight = (await json(dir, { budget: { meanTtftMs: 100, meanTpotMs: 50 } })).workloads[0];
    assert.match(tight.summary, /none of the 3 results met the budget \(mean TTFT ≤ 100 ms/);
  });

  it('says unknown, never $0, where the price table has no price for the recorded instance type and region', async () => {
    const dir = withSidecars([['collocated-baseline', 64, [3, 3000, 1800, 19], layoutSection(16, { region: 'af-south-1' })]]);
    const out = await runReport(dir, { json: false, chart: false });
    const [row] = rowsOf(out.stdout);
    assert.ok(row.includes('| 16 | 187.50 | unknown | unknown |'), row);
    assert.doesNotMatch(out.stdout, /\$0\.00/);
    assert.match(out.stdout, /Price: unknown for p5\.48xlarge in af-south-1/);
    assert.match(out.stdout, /the price of p5\.48xlarge in af-south-1 is unknown, so tokens per dollar are too/);
  });

  it('without layouts says the GPU counts are unknown and points at --profile', async () => {
    const out = await runReport(publishedResults(), { json: false, chart: false });
    assert.equal(out.exitCode, 0);
    assert.ok(rowsOf(out.stdout)[0].startsWith('| collocated-baseline | 3.09 | 3092.52 | 1858.70 | 18.78 | unknown | unknown | unknown | unknown |'));
    assert.match(out.stdout, /record no layout .* run with --profile reference/);
  });

  it('skips a result whose sidecar is broken or whose layout section lacks fields, naming the file', async () => {
    const dir = withSidecars([['pd-nixl', 64, [4, 4000, 1200, 13], layoutSection(8, { gpus: undefined, region: undefined })]]);
    const folder = join(dir, 'gptoss_itl8000_otl1000_mixed_collocated-baseline');
    mkdirSync(folder);
    writeFileSync(join(folder, 'conc64.json'), JSON.stringify(vllmResult([3, 3000, 1800, 19])));
    writeFileSync(join(folder, 'conc64.meta.json'), '{"layout": ');
    const out = await runReport(dir, { json: false, chart: false });
    assert.equal(out.exitCode, 1);
    assert.match(out.stderr, /pd-nixl\/conc64\.json: its sidecar's layout section lacks gpus, region/);
    assert.match(out.stderr, /collocated-baseline\/conc64\.json: its sidecar conc64\.meta\.json is not valid JSON/);
  });

  it('writes the chart as SVG and PNG next to the results, embeds the PNG in the Markdown, and --no-chart writes neither', async () => {
    const dir = publishedResults();
    const out = await runReport(dir, { json: false, chart: true, profile: 'reference' });
    assert.equal(out.chartPath, join(dir, 'report.svg'));
    assert.equal(out.chartPngPath, join(dir, 'report.png'));
    const svg = readFileSync(join(dir, 'report.svg'), 'utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    for (const r of PUBLISHED_RESULTS) assert.ok(svg.includes(r.experiment), r.experiment);
    assert.deepEqual([...readFileSync(join(dir, 'report.png')).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.match(out.stdout, /\n!\[chart\]\(report\.png\)\n/);
    const bare = publishedResults();
    const none = await runReport(bare, { json: false, chart: false, profile: 'reference' });
    assert.equal(none.chartPath, undefined);
    assert.ok(!existsSync(join(bare, 'report.svg')) && !existsSync(join(bare, 'report.png')));
    assert.doesNotMatch(none.stdout, /!\[chart\]/);
  });

  it('reports malformed and incomplete files with their path, skips them, prints the rest and exits 2', async () => {
    const dir = publishedResults();
    const broken = join(dir, 'gptoss_itl8000_otl1000_mixed_broken', 'conc64.json');
    mkdirSync(join(dir, 'gptoss_itl8000_otl1000_mixed_broken'));
    writeFileSync(broken, '{"request_throughput": 1.0,');
    const partial = join(dir, 'gptoss_itl8000_otl1000_mixed_partial', 'conc64.json');
    mkdirSync(join(dir, 'gptoss_itl8000_otl1000_mixed_partial'));
    writeFileSync(partial, JSON.stringify({ completed: 3, request_throughput: 1, output_throughput: 2 }));
    const out = await runReport(dir, { json: false, chart: false });
    assert.equal(out.exitCode, EXIT_SKIPPED);
    assert.match(out.stderr, new RegExp(`skipped ${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid JSON`));
    assert.match(out.stderr, /partial\/conc64\.json: missing or non-numeric mean_ttft_ms, mean_tpot_ms/);
    assert.match(out.stdout, /\| pd-nixl \| 4\.35 \|/);
  });

  it('keeps workloads apart, each with its own baseline and summary', async () => {
    const dir = publishedResults();
    const folder = join(dir, 'gptoss_itl12500_otl100_prefix-reuse_collocated-lmcache');
    mkdirSync(folder);
    writeFileSync(join(folder, 'conc64.json'), JSON.stringify(vllmResult([5, 500, 300, 10])));
    const doc = await json(dir, { profile: 'reference' });
    assert.deepEqual(doc.workloads.map((w: Json) => w.mode), ['mixed', 'prefix-reuse']);
    assert.equal(doc.workloads[1].baseline, 'collocated-lmcache');
    assert.equal(doc.workloads[1].rows[0].layout.router, 'prefix-aware', 'auto routing: prefix-aware for the prefix-reuse workload');
    assert.match(doc.workloads[1].summary, /^Workload prefix-reuse \(12500 in \/ 100 out tokens per request\)/);
  });

  it('names rows by concurrency when a folder holds a sweep, and compares only at equal concurrency', async () => {
    const dir = withSidecars([
      ['x', 8, [1, 10, 100, 5], layoutSection(16)],
      ['x', 16, [2, 20, 120, 6], layoutSection(16)],
    ]);
    const doc = await json(dir);
    assert.deepEqual(doc.workloads[0].rows.map((r: Json) => r.configuration), ['x @ c=8', 'x @ c=16']);
    assert.deepEqual(doc.workloads[0].rows.map((r: Json) => r.change), [null, null], 'nothing else at its concurrency and GPU count');
  });

  it('in a sweep of two configurations × three concurrencies, compares every per-GPU and per-dollar figure with the baseline at the same concurrency', async () => {
    // The reference profile's layouts: the baseline on 4 GPUs, PD on 8; throughput differs at every concurrency, so
    // a baseline taken from another concurrency gives other changes.
    const sweep: Array<[string, number, number[], Json]> = [];
    const outputs: Record<string, Record<number, number>> = {
      'collocated-baseline': { 32: 1800, 64: 3000, 128: 3900 },
      'pd-nixl': { 32: 2500, 64: 4300, 128: 6100 },
    };
    const gpus: Record<string, number> = { 'collocated-baseline': 4, 'pd-nixl': 8 };
    for (const [exp, byConc] of Object.entries(outputs)) {
      for (const [c, out] of Object.entries(byConc)) {
        sweep.push([exp, Number(c), [out / 1000, out, 900, 20],
          layoutSection(gpus[exp], { profile: 'reference', layout: exp === 'pd-nixl' ? '1P × TP4 + 1D × TP4' : '1 × TP4' })]);
      }
    }
    const [w] = (await json(withSidecars(sweep))).workloads;
    assert.equal(w.rows.length, 6);
    const pct = (value: number, base: number) => Math.round(((value - base) / base) * 100 * 100) / 100;
    for (const row of w.rows as Json[]) {
      const c = row.concurrency as number;
      const base = outputs['collocated-baseline'][c];
      const mine = outputs[row.experiment][c];
      assert.equal(row.normalizedBaseline, `collocated-baseline @ c=${c}`, row.configuration);
      // Tokens per GPU and $ per million tokens, each from its own rounded figure as the table shows it.
      const perGpu = (out: number, g: number) => Math.round((out / g) * 100) / 100;
      assert.equal(row.normalizedChange.tokPerGpu, pct(perGpu(mine, gpus[row.experiment]), perGpu(base, 4)), row.configuration);
      const usd = perMillion('p5.48xlarge', 'us-east-1', gpus[row.experiment], mine);
      assert.equal(row.usdPerMTok, usd, row.configuration);
      assert.equal(row.normalizedChange.usdPerMTok, pct(usd, perMillion('p5.48xlarge', 'us-east-1', 4, base)), row.configuration);
    }
    // The PD rows, spelled out: 2500/8 against 1800/4 at c=32, 4300/8 against 3000/4 at 64, 6100/8 against 3900/4 at 128.
    assert.deepEqual(w.rows.filter((r: Json) => r.experiment === 'pd-nixl').map((r: Json) => r.normalizedChange.tokPerGpu), [-30.56, -28.33, -21.79]);
    const out = await runReport(withSidecars(sweep), { json: false, chart: false });
    assert.match(out.stdout, /^\| pd-nixl @ c=128 \| collocated-baseline @ c=128 \| -21\.79% \| \+28\.06% \|$/m);
    assert.match(out.stdout, /^\| collocated-baseline @ c=32 \| collocated-baseline @ c=32 \| baseline \| baseline \|$/m);
  });

  it('parses folder names whose served name contains underscores', () => {
    assert.deepEqual(parseResultFolder('my_model_itl8000_otl1000_mixed_pd-nixl'),
      { served: 'my_model', inputLen: 8000, outputLen: 1000, mode: 'mixed', experiment: 'pd-nixl' });
    assert.equal(parseResultFolder('not-a-result-folder'), undefined);
  });

  it('npm run report takes --profile and budgets, exits 2 when something was skipped or an argument is bad, and 1 when nothing is usable', async () => {
    const repo = resolve(__dirname, '..', '..');
    const dir = publishedResults();
    mkdirSync(join(dir, 'gptoss_itl8000_otl1000_mixed_bad'));
    writeFileSync(join(dir, 'gptoss_itl8000_otl1000_mixed_bad', 'conc64.json'), 'nope');
    const tsx = join(repo, 'node_modules', '.bin', 'tsx');
    // The three runs at once: each is a process of its own.
    const report = (...args: string[]) => new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
      const child = spawn(tsx, [join(repo, 'scripts', 'report.ts'), ...args]);
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
      child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
      child.on('close', (status) => done({ status, stdout, stderr }));
    });
    const [r, bad, empty] = await Promise.all([report(dir, '--profile', 'reference', '--ttft-budget-ms', '3000'),
      report(dir, '--profile', 'biggest'), report(mkdtempSync(join(tmpdir(), 'empty-')))]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stdout, /\| pd-multiconnector \| 3\.70 \| 3697\.97 \| 1481\.06 \| 15\.20 \| 8 \| 462\.25 \|/);
    assert.match(r.stdout, /within mean TTFT ≤ 3000 ms/);
    assert.ok(existsSync(join(dir, 'report.svg')) && existsSync(join(dir, 'report.png')));
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^error: --profile biggest: use reference or full-cluster/);
    assert.equal(empty.status, 1);
    assert.match(empty.stderr, /no usable conc<N>\.json/);
  });
});
