import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { mergeCdkContext } from '../../lib/cli/settings';
import { parseContextArguments, runPreflightCommand } from '../../lib/preflight';
import { refusedEndpoint } from './fake-aws-endpoint';

const root = resolve(__dirname, '..', '..');

async function command(argv: string[], endpoint: string) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runPreflightCommand({
    argv, contextFiles: { project: '{"app":"x","context":{}}' }, readFile: () => { throw new Error('no files here'); },
    out: (l) => out.push(l), err: (l) => err.push(l),
    clientOptions: { endpoint, credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' } },
  });
  return { code, out, err };
}

describe('npm run preflight', () => {
  it('reports an endpoint that refuses connections as one clear failure and exits 1', async () => {
    const { code, out } = await command([], await refusedEndpoint());
    assert.equal(code, 1);
    const fails = out.filter((l) => l.startsWith('FAIL'));
    assert.equal(fails.length, 1, out.join('\n'));
    assert.match(fails[0], /AWS access .*cannot reach the AWS API for us-east-1 \(ECONNREFUSED/);
    assert.doesNotMatch(out.join('\n'), /^\s+at /m, 'no stack trace');
  });

  it('exits 2 with one error line per bad setting, before calling AWS', async () => {
    const { code, out, err } = await command(['-c', 'gpuNodes=0', '-c', 'maxHour=3'], 'http://127.0.0.1:1');
    assert.equal(code, 2);
    assert.deepEqual(out, []);
    assert.equal(err.length, 2);
    assert.ok(err.every((l) => l.startsWith('error: ')));
  });

  it('runs as a script: a bad setting gives exit code 2 and the one-line error', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, AWS_EC2_METADATA_DISABLED: 'true' };
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'preflight.ts'), '-c', 'tensorParallelSize=3'],
      { cwd: root, env, encoding: 'utf8', timeout: 30_000 });
    assert.equal(run.status, 2, run.stderr);
    assert.deepEqual(run.stderr.split('\n').filter((l) => l.startsWith('error: ')),
      ['error: invalid setting tensorParallelSize=3: must divide the 8 GPUs per p5.48xlarge node (allowed: 1, 2, 4, 8)']);
    assert.doesNotMatch(run.stderr, /^\s+at .*:\d+:\d+\)?$/m, 'no stack trace');
  });

  it('reads -c key=value like the CDK CLI, with the command line over cdk.context.json over cdk.json', () => {
    const args = parseContextArguments(['-c', 'gpuNodes=4', '--context', 'region=us-east-2', '-c', 'gpuNodes=3']);
    assert.deepEqual(args, { gpuNodes: '3', region: 'us-east-2' });
    const merged = mergeCdkContext({
      project: JSON.stringify({ context: { maxHours: 4, region: 'eu-west-1' } }),
      projectContext: JSON.stringify({ maxHours: 2 }),
    }, args);
    assert.deepEqual(merged, { maxHours: 2, region: 'us-east-2', gpuNodes: '3' });
    assert.throws(() => parseContextArguments(['--region', 'x']), /unknown argument --region/);
  });
});
