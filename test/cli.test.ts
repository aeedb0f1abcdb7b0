import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CdkRun, cdkSynth, cdkSynthDefault } from './helpers/cdk-cli';
import { LocalEndpoint, startLocalEndpoint } from './helpers/local-endpoint';

const root = resolve(__dirname, '..');

/**
 * The lines of a documented excerpt that the output does not have, in order. Runs of blanks compare as one, `…` in a
 * line stands for any text, a line that is only `…` or starts with `(…` skips any number of lines, and a node
 * generation (8 hex digits, it changes with the bootstrap) matches any other.
 */
function missingFromOutput(excerpt: string, output: string): string[] {
  const norm = (l: string) => l.replace(/\s+/g, ' ').trim().replace(/\b(Node generation |ClusterReady)[0-9a-f]{8}\b/g, '$1<generation>');
  const printed = output.split('\n').map(norm);
  const missing: string[] = [];
  let at = 0;
  for (const line of excerpt.split('\n').map(norm)) {
    if (line === '…' || line.startsWith('(…') || line === '') continue;
    const pattern = new RegExp(`^${line.split('…').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    const found = printed.findIndex((l, i) => i >= at && pattern.test(l));
    if (found < 0) missing.push(line);
    else at = found + 1;
  }
  return missing;
}

/**
 * Every cdk CLI run of this file, started at once (two at a time) so that they overlap; each test below awaits its
 * own. The default synth is the run's (test/cluster/update-notice.test.ts compares with its template). The pricing
 * endpoint is the AWS Price List API's GetProducts, in its JSON 1.1 wire protocol.
 */
let pricing: LocalEndpoint;
const yamlDir = mkdtempSync(join(tmpdir(), 'p5-cli-yaml-'));
const liveOut = mkdtempSync(join(tmpdir(), 'p5-cli-live-'));
const cfgDir = mkdtempSync(join(tmpdir(), 'p5-cli-cfg-'));
let runs: {
  ok: Promise<CdkRun & { outdir: string }>; badSetting: Promise<CdkRun>; badYaml: Promise<CdkRun>; live: Promise<CdkRun>; liveOff: Promise<CdkRun>;
  flags: Promise<CdkRun>; config: Promise<CdkRun>; badRegion: Promise<CdkRun>;
};
before(async () => {
  pricing = await startLocalEndpoint(() => ({
    headers: { 'content-type': 'application/x-amz-json-1.1' },
    body: JSON.stringify({ FormatVersion: 'aws_v1', NextToken: null, PriceList: [JSON.stringify({
      terms: { OnDemand: { a: { priceDimensions: { b: { unit: 'Hrs', pricePerUnit: { USD: '51.2345000000' } } } } } },
    })] }),
  }));
  writeFileSync(join(yamlDir, 'cluster.yaml'), 'gpuNodes: 2\nmaxHour: 4\n');
  writeFileSync(join(cfgDir, 'cluster.yaml'), 'gpuNodes: 3\nregion: us-west-2\n');
  runs = {
    ok: cdkSynthDefault(),
    // The slowest (the CloudFormation validation engine, cdk-nag in full) early, so that the others fill in beside it.
    flags: cdkSynth(['-c', 'nagCache=false', '-c', 'cfnValidation=true'], mkdtempSync(join(tmpdir(), 'p5-cli-flags-'))),
    badSetting: cdkSynth(['-c', 'tensorParallelSize=3'], mkdtempSync(join(tmpdir(), 'p5-cli-bad-'))),
    badYaml: cdkSynth(['-c', `config=${join(yamlDir, 'cluster.yaml')}`], join(yamlDir, 'out')),
    live: cdkSynth(['-c', 'livePrices=true'], liveOut,
      { AWS_ENDPOINT_URL: pricing.url, AWS_ACCESS_KEY_ID: 'AKIDFAKEFORTEST', AWS_SECRET_ACCESS_KEY: 'fake', AWS_REGION: 'us-east-1' }),
    liveOff: cdkSynth(['-c', 'livePrices=true'], mkdtempSync(join(tmpdir(), 'p5-cli-live-off-')),
      { AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_REGION: 'us-east-1' }),
    config: cdkSynth(['-c', `config=${join(cfgDir, 'cluster.yaml')}`], join(cfgDir, 'out')),
    badRegion: cdkSynth(['-c', 'region=us-east-9'], mkdtempSync(join(tmpdir(), 'p5-cli-region-'))),
  };
  await Promise.all(Object.values(runs));
});
after(() => pricing.close());

describe('the cdk CLI, offline', () => {
  let ok: CdkRun;
  let outdir: string;
  before(async () => { ({ outdir, ...ok } = await runs.ok); });

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

  it('prints what the README\'s cost review and operations.md\'s node-generation notice show (excerpts: … leaves out)', () => {
    const block = (file: string, first: string) => {
      const text = readFileSync(join(root, file), 'utf8');
      const at = text.indexOf(`\n${first}`);
      assert.ok(at >= 0, `${file}: a block starting with ${first}`);
      return text.slice(at + 1, text.indexOf('\n```', at));
    };
    for (const [file, first] of [['README.md', 'Cost review: us-east-1'], [join('docs', 'operations.md'), 'Node generation ']]) {
      assert.deepEqual(missingFromOutput(block(file, first), ok.stderr), [], `${file} shows lines synth does not print; it prints:\n${ok.stderr}`);
    }
  });

  it('fails a bad setting with one line naming it, and no stack trace', async () => {
    const bad = await runs.badSetting;
    assert.notEqual(bad.status, 0);
    const errors = bad.stderr.split('\n').filter((l) => l.startsWith('error: '));
    assert.deepEqual(errors, ['error: invalid setting tensorParallelSize=3: must divide the 8 GPUs per p5.48xlarge node (allowed: 1, 2, 4, 8)']);
    assert.doesNotMatch(bad.stderr, /^\s+at .*\(.*:\d+:\d+\)$/m, 'no stack trace');
  });

  it('fails an unknown key in a YAML config file the same way', async () => {
    const bad = await runs.badYaml;
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /^error: unknown setting maxHour: did you mean maxHours\? /m);
    assert.doesNotMatch(bad.stderr, /^\s+at .*\(.*:\d+:\d+\)$/m);
  });
});

/** Every context flag the README documents, through the real cdk CLI (bin/register-ts.js), not only through tsx. */
describe('the documented context flags, through the cdk CLI', () => {
  it('livePrices=true reads the Price List API and dates the source', async () => {
    const r = await runs.live;
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /internal error/);
    const report = JSON.parse(readFileSync(join(liveOut, 'cost-report.json'), 'utf8'));
    const gpu = report.lines.find((l: any) => l.unit === 'instance' && l.description.startsWith('p5.48xlarge'));
    assert.equal(gpu.unitHourlyUsd, 51.2345);
    assert.match(report.priceSource, /AWS Price List API \(live/);
  });

  it('livePrices=true without credentials falls back to the dated table with a warning, as documented', async () => {
    const r = await runs.liveOff;
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /WARNING: live price refresh failed/);
    assert.doesNotMatch(r.stderr, /internal error/);
  });

  it('nagCache=false runs cdk-nag in full; cfnValidation=true adds CloudFormation\'s schema validation', async () => {
    const r = await runs.flags;
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^cdk-nag AwsSolutions: passed$/m);
  });

  it('config=<file> reads a YAML file of settings', async () => {
    const r = await runs.config;
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^Cost review: us-west-2/m);
    const template = JSON.parse(readFileSync(join(cfgDir, 'out', 'P5RayKvCluster.template.json'), 'utf8'));
    assert.equal(Object.values(template.Resources).filter((res: any) => res.Type === 'AWS::EC2::Instance').length, 4);
  });

  it('an unknown region fails at synth, naming the setting, before any money is spent', async () => {
    const bad = await runs.badRegion;
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /^error: invalid setting region=us-east-9: is not an AWS region known to aws-cdk-lib/m);
    assert.doesNotMatch(bad.stderr, /\$0\.00/);
  });
});
