import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runResultsCommand } from '../../lib/ops/results';
import { BUCKET, RealCluster, deploying, realCluster } from './cluster-scenario';
import { closeEndpoints, runWithFake } from './helpers';

after(closeEndpoints);
let real: RealCluster;
before(async () => { real = await realCluster({ logs: false }); });

/** A `vllm bench serve --save-result` file with the keys the report reads (FACTS §2). */
function bench(concurrency: number, throughput: number): string {
  return JSON.stringify({
    date: '20261124-130000', backend: 'openai-chat', model_id: 'openai/gpt-oss-120b', num_prompts: 5 * concurrency,
    max_concurrency: concurrency, duration: 100, completed: 5 * concurrency, failed: 0, total_input_tokens: 8000 * 5 * concurrency,
    total_output_tokens: 1000 * 5 * concurrency, request_throughput: throughput / 1000, output_throughput: throughput,
    total_token_throughput: throughput * 9, mean_ttft_ms: 900, median_ttft_ms: 850, p99_ttft_ms: 2000, mean_tpot_ms: 20,
    median_tpot_ms: 19, p99_tpot_ms: 40, mean_itl_ms: 20, median_itl_ms: 19, p99_itl_ms: 40,
  });
}

function withResults() {
  const d = deploying(real, new Date('2026-11-24T12:00:00Z'));
  d.launch();
  d.complete('2026-11-24T20:00:00Z');
  const bucket = (d.account.buckets as Record<string, Record<string, string>>)[BUCKET];
  bucket['serve/pd_nixl.yaml'] = 'x';
  bucket['results/20261124T130000Z/gptoss_itl8000_otl1000_mixed_collocated-baseline/conc64.json'] = bench(64, 3000);
  bucket['results/20261124T150000Z/gptoss_itl8000_otl1000_mixed_collocated-baseline/conc64.json'] = bench(64, 3086);
  bucket['results/20261124T150000Z/gptoss_itl8000_otl1000_mixed_pd-nixl/conc64.json'] = bench(64, 4354);
  bucket['results/20261124T150000Z/gptoss_itl8000_otl1000_mixed_pd-nixl/conc32.json'] = bench(32, 2500);
  return d;
}

describe('npm run results', () => {
  it('downloads the latest run from the artifacts bucket, page by page, and prints the report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'p5-results-'));
    const run = await runWithFake(runResultsCommand, [dir], withResults().account);
    assert.equal(run.code, 0, run.text);
    const runDir = join(dir, '20261124T150000Z');
    assert.match(run.err[0], new RegExp(`^s3://${BUCKET}/results/20261124T150000Z/ → ${runDir}: 3 file\\(s\\), 0\\.0 MB downloaded$`));
    assert.equal(JSON.parse(readFileSync(join(runDir, 'gptoss_itl8000_otl1000_mixed_pd-nixl', 'conc64.json'), 'utf8')).output_throughput, 4354);
    assert.ok(!existsSync(join(dir, '20261124T130000Z')), 'only the latest run');
    assert.match(run.text, /pd-nixl/);
    assert.match(run.text, /4354/);
    assert.ok(existsSync(join(runDir, 'report.svg')) && existsSync(join(runDir, 'report.png')));
    assert.match(run.text, /!\[chart\]\(report\.png\)/);
    // Bucket from the stack output; objects listed with pages of 7 at most (the fake's page size).
    assert.ok(run.endpoint.calls.some((c) => c.service === 's3' && c.params.bucket === BUCKET));
  });

  it('--run picks a run, --list lists them, and a second download keeps the files already there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'p5-results-'));
    const list = await runWithFake(runResultsCommand, ['--list'], withResults().account);
    assert.deepEqual(list.out.slice(1), ['  20261124T130000Z', '  20261124T150000Z']);
    const first = await runWithFake(runResultsCommand, [dir, '--run', '20261124T130000Z', '--json'], withResults().account);
    assert.equal(first.code, 0, first.text);
    assert.ok(JSON.parse(first.out.join('\n')).workloads.length > 0);
    const again = await runWithFake(runResultsCommand, [dir, '--run', '20261124T130000Z', '--no-chart'], withResults().account);
    assert.match(again.err[0], /0 file\(s\), 0\.0 MB downloaded, 1 already there$/);
    const bad = await runWithFake(runResultsCommand, [dir, '--run', '2025'], withResults().account);
    assert.equal(bad.code, 2);
    assert.deepEqual(bad.err, ['error: invalid option --run=2025: the runs are 20261124T130000Z, 20261124T150000Z']);
  });

  it('says what to do when there are no results yet, or the bucket may not be read', async () => {
    const d = deploying(real, new Date('2026-11-24T12:00:00Z'));
    d.complete('2026-11-24T20:00:00Z');
    const none = await runWithFake(runResultsCommand, [], d.account);
    assert.equal(none.code, 1);
    assert.match(none.err[0], /^error: no results under s3:\/\/.*\/results\/ yet: run the benchmarks on the head \(`npm run shell`, then `sudo bash \/opt\/p5-ray\/serve\/run_all\.sh`\)$/);
    const denied = await runWithFake(runResultsCommand, [], { ...withResults().account, denied: ['ListObjectsV2'] });
    assert.equal(denied.code, 1);
    assert.match(denied.err[0], /^error: not authorized to call s3:ListBucket in us-east-1 \(AccessDenied\)/);
    const creating = deploying(real, new Date());
    const early = await runWithFake(runResultsCommand, [], creating.account);
    assert.match(early.err[0], /^error: stack P5RayKvCluster has no ArtifactsBucketName output \(status CREATE_IN_PROGRESS\)/);
  });
});
