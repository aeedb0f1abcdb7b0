import { strict as assert } from 'node:assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { App, IPolicyValidationPlugin, Stack, Validations, aws_s3 as s3 } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CachedNagChecks } from '../../lib/nag/cached-checks';
import { capturingConsole } from '../helpers/console-capture';

interface Build { bucketName?: string; acknowledgeTls?: boolean }

/**
 * Synthesizes a one-bucket app through the real validation path; returns whether it passed, the plugin, and the
 * validation report aws-cdk-lib printed (kept here, not among the test results).
 */
function synthWith(cacheDir: string, build: Build, runs: { count: number }) {
  const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'p5-nagc-')), builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'S', { env: { region: 'us-east-1' } });
  const bucket = new s3.Bucket(stack, 'B', { bucketName: build.bucketName, enforceSSL: false });
  Validations.of(bucket).acknowledge({ id: 'AwsSolutions-S1', reason: 'test: no access logs' });
  if (build.acknowledgeTls) Validations.of(bucket).acknowledge({ id: 'AwsSolutions-S10', reason: 'test: TLS not enforced' });
  const plugin = new CachedNagChecks(app, {
    cacheDir,
    pack: (): IPolicyValidationPlugin => { runs.count++; return new AwsSolutionsChecks(app); },
  });
  Validations.of(app).addPlugins(plugin);
  try {
    const { output } = capturingConsole(() => app.synth());
    return { passed: true, plugin, report: output };
  } catch (err) {
    assert.match(String(err), /Validation failed/);
    // The printed report, which capturingConsole adds to the error.
    return { passed: false, plugin, report: String(err) };
  }
}

describe('cached cdk-nag verdicts', () => {
  it('reuses a verdict only for the same template and acknowledgements, and still fails what nag fails', () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'p5-nagc-cache-'));
    const runs = { count: 0 };

    const first = synthWith(cacheDir, {}, runs);
    assert.equal(first.passed, false, 'S10 (no TLS enforcement) is a finding');
    assert.match(first.report, /AwsSolutions-S10/);
    assert.equal(first.plugin.lastOutcome, 'miss');
    assert.equal(runs.count, 1);

    const again = synthWith(cacheDir, {}, runs);
    assert.equal(again.passed, false, 'a cached verdict fails the synth just the same');
    assert.match(again.report, /AwsSolutions-S10/, 'and names the same finding');
    assert.equal(again.plugin.lastOutcome, 'hit');
    assert.equal(runs.count, 1, 'the pack did not run again');

    const acknowledged = synthWith(cacheDir, { acknowledgeTls: true }, runs);
    assert.equal(acknowledged.plugin.lastOutcome, 'miss', 'a new acknowledgement is a new key');
    assert.equal(acknowledged.passed, true);
    assert.equal(runs.count, 2);

    const renamed = synthWith(cacheDir, { acknowledgeTls: true, bucketName: 'other-name-1234' }, runs);
    assert.equal(renamed.plugin.lastOutcome, 'miss', 'a changed template is a new key');
    assert.equal(runs.count, 3);
  });

  it('runs the pack every time when the cache is off', () => {
    const runs = { count: 0 };
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'p5-nagc-')), builtinCloudFormationValidation: false });
    new Stack(app, 'S', { env: { region: 'us-east-1' } });
    const plugin = new CachedNagChecks(app, { cache: false, pack: () => { runs.count++; return new AwsSolutionsChecks(app); } });
    plugin.validate({ templatePaths: [], appConstruct: app } as never);
    plugin.validate({ templatePaths: [], appConstruct: app } as never);
    assert.equal(runs.count, 2);
  });
});
