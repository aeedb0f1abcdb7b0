/**
 * samples/reference-example: the committed files are exactly what `npm run sample` writes from the catalog, and the
 * real `npm run report` script reads them back into the reference example's table, with its chart.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { PUBLISHED_RESULTS, REFERENCE_EXAMPLE } from '../../lib/catalog/reference-example';
import { NOTHING_RECORDED } from '../../lib/report/table';
import { SAMPLE_DIR, sampleFiles } from '../../scripts/sample';

const root = resolve(__dirname, '..', '..');
const sample = join(root, SAMPLE_DIR);
/** The report's output, committed beside the sample for the README. */
const CHART_FILES = ['report.png', 'report.svg'];

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [relative(sample, path)];
  });
}

describe('sample results of the reference example', () => {
  it('are exactly what npm run sample writes from the published figures, and nothing else', () => {
    const generated = sampleFiles();
    assert.deepEqual(filesUnder(sample).sort(), [...generated.keys(), ...CHART_FILES].sort());
    for (const [path, content] of generated) assert.equal(readFileSync(join(sample, path), 'utf8'), content, `${path} is stale: run npm run sample`);
  });

  it('hold only the published keys, say where they come from, and cite the example by name and link', () => {
    const readme = readFileSync(join(sample, 'README.md'), 'utf8');
    assert.ok(readme.includes(`[${REFERENCE_EXAMPLE.name}](${REFERENCE_EXAMPLE.url})`));
    assert.match(readme, /\*\*These are not measurements made with this project\.\*\*/);
    for (const r of PUBLISHED_RESULTS) {
      const file = JSON.parse(readFileSync(join(sample, `gptoss_itl8000_otl1000_mixed_${r.publishedExperiment}`, 'conc64.json'), 'utf8'));
      assert.deepEqual(Object.keys(file).sort(),
        ['completed', 'max_concurrency', 'mean_tpot_ms', 'mean_ttft_ms', 'model_id', 'num_prompts', 'output_throughput', 'request_throughput', 'source']);
      assert.equal(file.output_throughput, r.outputThroughput);
      assert.ok(String(file.source).includes(REFERENCE_EXAMPLE.url), 'each file names its source');
      assert.equal(file.median_ttft_ms, undefined, 'unpublished in the table: absent, not invented');
    }
  });

  it('npm run report -- samples/reference-example --profile reference reproduces the example\'s table, the per-GPU reversal and the committed chart', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sample-'));
    cpSync(sample, dir, { recursive: true, filter: (src) => !CHART_FILES.some((f) => src.endsWith(f)) });
    const r = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'scripts', 'report.ts'), dir, '--profile', 'reference'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    // Published figures carry no evidence: said once instead of a table of n/a, and one warning for all four results.
    assert.equal(r.stdout.split(NOTHING_RECORDED).length, 2, r.stdout);
    assert.doesNotMatch(r.stdout, /n\/a/);
    assert.deepEqual(r.stdout.split('\n').filter((l) => l.startsWith('- ')),
      [`- ${PUBLISHED_RESULTS.map((p) => p.experiment).join(', ')}: evidence missing: no conc<N>.meta.json beside the result`]);
    assert.deepEqual(r.stderr.trim().split('\n'),
      ['warning: 4 result(s) flagged (evidence missing or contradicting the configuration): see **Warnings** in the report']);
    for (const p of PUBLISHED_RESULTS) {
      const row = `| ${p.experiment} | ${p.requestThroughput.toFixed(2)} | ${p.outputThroughput.toFixed(2)} | ${p.meanTtftMs.toFixed(2)} | ${p.meanTpotMs.toFixed(2)} | ${p.gpus} |`;
      assert.ok(r.stdout.includes(row), row);
    }
    // Raw, PD + NIXL is the fastest; per GPU it is 29.6% below the collocated baseline (773.13 vs 544.25 tok/s).
    assert.match(r.stdout, /\| collocated-baseline \| 3\.09 \| 3092\.52 \| .* \| 4 \| 773\.13 \|/);
    assert.match(r.stdout, /\| pd-nixl \| collocated-baseline \| -29\.60% \| \+42\.11% \|/);
    assert.match(r.stdout, /\n!\[chart\]\(report\.png\)\n/);
    assert.equal(readFileSync(join(dir, 'report.svg'), 'utf8'), readFileSync(join(sample, 'report.svg'), 'utf8'),
      'the committed chart is stale: run npm run report -- samples/reference-example --profile reference');
    assert.deepEqual(readFileSync(join(dir, 'report.png')).subarray(16, 24), readFileSync(join(sample, 'report.png')).subarray(16, 24), 'same PNG size');
  });

  it('the README shows that command\'s output and the chart, and both READMEs say that published figures carry no evidence', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    assert.match(readme.replace(/\n/g, ' '), /Published figures carry no evidence: .*`evidence missing: no conc<N>\.meta\.json beside the result`/);
    assert.match(readFileSync(join(sample, 'README.md'), 'utf8').replace(/\n/g, ' '),
      /\*\*Published figures carry no evidence\.\*\* .* `evidence missing: no conc<N>\.meta\.json beside the result` once, for all four/);
    assert.ok(readme.includes('npm run report -- samples/reference-example --profile reference'));
    assert.ok(readme.includes('](samples/reference-example/report.png)'));
    const r = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'scripts', 'report.ts'), sample, '--profile', 'reference', '--no-chart'], { encoding: 'utf8' });
    const excerpt = readme.split('\n').filter((l) => /^\| (collocated|pd)-/.test(l));
    assert.equal(excerpt.length, 3, 'the README quotes two rows of the table and one of the per-GPU comparison');
    for (const line of excerpt) assert.ok(r.stdout.split('\n').includes(line), `README line not in the report's output: ${line}`);
  });
});
