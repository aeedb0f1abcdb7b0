import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { parseBootstrapMessage, parseStreamName, summarizeBootstrap } from '../../lib/ops/bootstrap-log';
import { bootstrapLogs } from './real-bootstrap';

/** The steps the bootstrap itself printed on the node: `step k/N: <name> (<elapsed>s)`. */
function printedSteps(stdout: string): Array<{ number: number; total: number; name: string }> {
  return [...stdout.matchAll(/\] step (\d+)\/(\d+): (.*) \(\d+s\)$/gm)].map((m) => ({ number: Number(m[1]), total: Number(m[2]), name: m[3] }));
}

// The three real bootstraps run at once: each mostly waits on its stub commands.
describe('the bootstrap log parser, on what the real bootstrap sends to CloudWatch', { concurrency: true }, () => {
  it('follows a GPU worker through every step to ready, with a duration for each step', async () => {
    const sent = await bootstrapLogs();
    assert.equal(sent.run.code, 0, sent.run.stdout);
    assert.equal(sent.group, '/p5-ray/P5RayKvCluster/bootstrap');
    assert.deepEqual(parseStreamName(sent.stream), { role: 'gpu', index: 1, instanceId: 'i-0123456789abcdef0', node: 'gpu-1' });
    for (const e of sent.events) assert.ok(parseBootstrapMessage(e.message), `every line has the [bootstrap role i] prefix: ${e.message}`);

    const progress = summarizeBootstrap(sent.events);
    const printed = printedSteps(sent.run.stdout);
    assert.ok(printed.length >= 10, sent.run.stdout);
    assert.deepEqual(progress.steps.map((s) => ({ number: s.number, total: s.total, name: s.name })), printed);
    assert.ok(progress.steps.every((s) => s.durationS !== undefined && s.durationS >= 0));
    assert.ok(progress.steps.some((s) => s.name === 'verify 8 GPUs'));
    assert.ok(progress.steps.some((s) => s.name === 'verify 32 EFA devices'));
    assert.equal(progress.outcome?.kind, 'ready');
    assert.equal(progress.current, undefined);
    assert.equal(progress.signal?.status, 'SUCCESS');
    assert.equal(sent.run.signals[0].Status, 'SUCCESS');
  });

  it('stops a failing node at the failed step, with the reason CloudFormation receives', async () => {
    const sent = await bootstrapLogs({}, { STUB_GPUS: '7' });
    assert.notEqual(sent.run.code, 0);
    const progress = summarizeBootstrap(sent.events);
    const failedAt = printedSteps(sent.run.stdout).at(-1)!;
    assert.equal(failedAt.name, 'verify 8 GPUs');
    assert.equal(progress.steps.at(-1)?.number, failedAt.number);
    assert.equal(progress.outcome?.kind, 'failed');
    assert.equal(progress.signal?.status, 'FAILURE');
    // The reason the parser reports is exactly the one PUT to the WaitCondition.
    assert.equal(progress.outcome?.kind === 'failed' && progress.outcome.reason, sent.run.signals[0].Reason);
    assert.ok(sent.run.signals[0].Reason.startsWith(`step ${failedAt.number}/${failedAt.total} (verify 8 GPUs): `), sent.run.signals[0].Reason);
    assert.match(sent.run.signals[0].Reason, /found 7/);
  });

  it('names the separate head `head` (stream head-0/…) and counts its own steps', async () => {
    const sent = await bootstrapLogs({ role: 'head', isRayHead: true, gpuIndex: 0 }, { STUB_IP: '10.0.0.10' });
    assert.equal(sent.run.code, 0, sent.run.stdout);
    assert.equal(parseStreamName(sent.stream)?.node, 'head');
    const progress = summarizeBootstrap(sent.events);
    assert.equal(progress.outcome?.kind, 'ready');
    assert.equal(progress.steps.length, progress.steps[0].total);
  });

  it('reads each line kind of the grammar', () => {
    assert.deepEqual(parseBootstrapMessage('[bootstrap gpu 1] step 3/11: verify 8 GPUs (12s)')?.line,
      { kind: 'step', number: 3, total: 11, name: 'verify 8 GPUs', elapsedS: 12 });
    assert.deepEqual(parseBootstrapMessage('[bootstrap head 0] ready after 812s: ray head 10.0.0.10:6379')?.line,
      { kind: 'ready', afterS: 812, summary: 'ray head 10.0.0.10:6379' });
    assert.equal(parseBootstrapMessage('[bootstrap gpu 0] FAILED: expected 8')?.line.kind, 'failed');
    assert.equal(parseBootstrapMessage('[bootstrap gpu 0] signalling FAILURE to CloudFormation: step 3/11 (x): y')?.line.kind, 'signal');
    assert.deepEqual(parseBootstrapMessage('[bootstrap gpu 0]   waiting for the head (60s of at most 4800s)')?.line,
      { kind: 'detail', text: 'waiting for the head (60s of at most 4800s)' });
    assert.equal(parseBootstrapMessage('pip: something'), undefined);
    assert.equal(parseStreamName('not-a-stream'), undefined);
  });

  it('keeps the running step and the latest wait note while a node is still going', () => {
    const t = 1_800_000_000_000;
    const progress = summarizeBootstrap([
      { timestamp: t, message: '[bootstrap gpu 0] step 1/11: read the instance identity (0s)' },
      { timestamp: t + 2000, message: '[bootstrap gpu 0] step 2/11: wait for the NVMe instance store at /opt/dlami/nvme (2s)' },
      { timestamp: t + 62000, message: '[bootstrap gpu 0]   waiting for the NVMe (60s of at most 300s)' },
    ]);
    assert.equal(progress.current?.number, 2);
    assert.equal(progress.steps[0].durationS, 2);
    assert.equal(progress.waiting, 'waiting for the NVMe (60s of at most 300s)');
    assert.equal(progress.outcome, undefined);
  });
});
