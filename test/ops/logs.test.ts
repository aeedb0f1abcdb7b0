import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { runLogsCommand } from '../../lib/ops/logs';
import { defaultAccount } from '../preflight/fake-aws-endpoint';
import { RealCluster, deploying, realCluster } from './cluster-scenario';
import { closeEndpoints, runWithFake } from './helpers';

after(closeEndpoints);
let real: RealCluster;
before(async () => { real = await realCluster(); });
const CREATED = new Date('2026-11-24T12:00:00Z');

describe('npm run logs', () => {
  it("prints one node's whole bootstrap log, every page of it, without the [bootstrap …] prefix", async () => {
    const d = deploying(real, CREATED);
    d.launch();
    for (const node of ['gpu-0', 'gpu-1', 'head']) d.log(node, real.logs[node]);
    const run = await runWithFake(runLogsCommand, ['gpu-1'], d.account);
    assert.equal(run.code, 0, run.text);
    assert.equal(run.out.length, real.logs['gpu-1'].length, 'every event, across pages of 7');
    assert.ok(run.out.every((l) => l.startsWith('gpu-1  ')), run.text);
    assert.match(run.out[0], /^gpu-1 {2}12:00:00 {2}step 1\/\d+: read the instance identity \(\d+s\)$/);
    assert.match(run.out.at(-1) ?? '', /signalling SUCCESS to CloudFormation/);
    const streams = run.endpoint.calls.filter((c) => c.action === 'DescribeLogStreams').map((c) => c.params.logStreamNamePrefix);
    assert.deepEqual([...new Set(streams)], ['gpu-1/']);
    assert.ok(run.endpoint.actions.filter((a) => a === 'GetLogEvents').length > 2, 'read page by page');
  });

  it('interleaves every node by time, and --lines keeps the last N', async () => {
    const d = deploying(real, CREATED);
    d.launch();
    d.log('gpu-0', real.logs['gpu-0'], undefined, 0);
    d.log('head', real.logs.head, undefined, 500);
    const all = await runWithFake(runLogsCommand, [], d.account);
    assert.equal(all.out.length, real.logs['gpu-0'].length + real.logs.head.length);
    assert.ok(all.out[0].startsWith('gpu-0') && all.out[1].startsWith('head'), all.out.slice(0, 3).join('\n'));
    const last = await runWithFake(runLogsCommand, ['-n', '3'], d.account);
    assert.deepEqual(last.out, all.out.slice(-3));
  });

  it('--follow prints new lines as they arrive and stops once every node has signalled', { timeout: 120_000 }, async () => {
    const d = deploying(real, CREATED);
    d.launch();
    const events = real.logs['gpu-1'];
    let reads = 0;
    const run = await runWithFake(runLogsCommand, ['gpu-1', '--follow', '--interval', '1'], d.account, {
      fake: {
        onCall: (call) => {
          if (call.action === 'DescribeLogStreams') d.log('gpu-1', events, Math.min(events.length, 5 * ++reads));
        },
      },
    });
    assert.equal(run.code, 0, run.text);
    assert.equal(run.out.length, events.length, 'each line once');
    assert.deepEqual(run.err, ['every node signalled SUCCESS']);
    assert.ok(reads >= Math.ceil(events.length / 5));
  });

  it('--follow exits 1 when a node signals FAILURE', { timeout: 120_000 }, async () => {
    const d = deploying(real, CREATED);
    d.launch();
    d.log('gpu-1', real.failedGpu1);
    const run = await runWithFake(runLogsCommand, ['gpu-1', '-f'], d.account);
    assert.equal(run.code, 1);
    assert.match(run.err[0], /a node signalled FAILURE/);
  });

  it('names a missing log group, an unknown node, and a missing stack in one line each', async () => {
    const d = deploying(real, CREATED);
    delete (d.account.logGroups as Record<string, unknown>)['/p5-ray/P5RayKvCluster/bootstrap'];
    const noGroup = await runWithFake(runLogsCommand, [], d.account);
    assert.equal(noGroup.code, 1);
    assert.deepEqual(noGroup.err, ['error: no bootstrap log group /p5-ray/P5RayKvCluster/bootstrap in us-east-1: the stack (CREATE_IN_PROGRESS) has not created it yet, or deleted it with a rollback or a destroy']);
    const unknown = await runWithFake(runLogsCommand, ['gpu-7'], d.account);
    assert.equal(unknown.code, 2);
    assert.deepEqual(unknown.err, ['error: no node gpu-7 in this configuration: the nodes are gpu-0, gpu-1, head']);
    const noStack = await runWithFake(runLogsCommand, [], defaultAccount());
    assert.equal(noStack.code, 1);
    assert.match(noStack.err[0], /^error: no stack P5RayKvCluster in us-east-1/);
  });
});
