import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { before, describe, it } from 'node:test';

const root = resolve(__dirname, '..');
const cdk = join(root, 'node_modules', '.bin', 'cdk');

/** Runs the real cdk CLI as a user would, offline: no credentials, no metadata service. */
function cdkSynth(args: string[], outdir: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_EC2_METADATA_DISABLED: 'true', CDK_DISABLE_VERSION_CHECK: '1' };
  for (const k of ['AWS_PROFILE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) delete env[k];
  return spawnSync(cdk, ['synth', '--quiet', '--no-notices', '-o', outdir, ...args], { cwd: root, env, encoding: 'utf8', timeout: 120_000 });
}

describe('the cdk CLI, offline', () => {
  let ok: ReturnType<typeof cdkSynth>;
  let outdir: string;
  before(() => {
    outdir = mkdtempSync(join(tmpdir(), 'p5-cli-'));
    ok = cdkSynth([], outdir);
  });

  it('synthesizes the default stack with no AWS credentials', () => {
    assert.equal(ok.status, 0, ok.stderr);
    assert.ok(existsSync(join(outdir, 'P5RayKvCluster.template.json')));
  });

  it('writes the four serve configs, the builder and the scripts under serve/', () => {
    const files = readdirSync(join(outdir, 'serve'));
    for (const f of ['collocated_baseline.yaml', 'collocated_lmcache.yaml', 'pd_nixl.yaml', 'pd_multiconnector.yaml', 'builder.py', 'run_bm.sh', 'run_all.sh']) {
      assert.ok(files.includes(f), `serve/${f} in ${files.join(', ')}`);
    }
  });

  it('prints the cost review and writes it beside the template', () => {
    assert.match(ok.stderr, /p5\.48xlarge/);
    assert.match(ok.stderr, /USD|\$/);
    const report = JSON.parse(readFileSync(join(outdir, 'cost-report.json'), 'utf8'));
    assert.equal(report.region, 'us-east-1');
    assert.ok(report.totalHourlyUsd > 110, `two p5.48xlarge alone are $110.08/h, got ${report.totalHourlyUsd}`);
    assert.ok(existsSync(join(outdir, 'cost-report.md')));
  });

  it('fails a bad setting with one line naming it, and no stack trace', () => {
    const bad = cdkSynth(['-c', 'tensorParallelSize=3'], mkdtempSync(join(tmpdir(), 'p5-cli-bad-')));
    assert.notEqual(bad.status, 0);
    const errors = bad.stderr.split('\n').filter((l) => l.startsWith('error: '));
    assert.deepEqual(errors, ['error: invalid setting tensorParallelSize=3: must divide the 8 GPUs per p5.48xlarge node (allowed: 1, 2, 4, 8)']);
    assert.doesNotMatch(bad.stderr, /^\s+at .*\(.*:\d+:\d+\)$/m, 'no stack trace');
  });

  it('fails an unknown key in a YAML config file the same way', () => {
    const dir = mkdtempSync(join(tmpdir(), 'p5-cli-yaml-'));
    const file = join(dir, 'cluster.yaml');
    writeFileSync(file, 'gpuNodes: 2\nmaxHour: 4\n');
    const bad = cdkSynth(['-c', `config=${file}`], join(dir, 'out'));
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /^error: unknown setting maxHour: allowed settings are /m);
    assert.doesNotMatch(bad.stderr, /^\s+at .*\(.*:\d+:\d+\)$/m);
  });
});
