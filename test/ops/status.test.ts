import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { firstDeploy } from '../../lib/bootstrap/deploy-time';
import { CommandInputs } from '../../lib/cli/command';
import { buildCostReport } from '../../lib/cost/report';
import { runStatusCommand } from '../../lib/ops/status';
import { defaultAccount } from '../preflight/fake-aws-endpoint';
import { IDS, RealCluster, STACK, deploying, realCluster } from './cluster-scenario';
import { closeEndpoints, runWithFake } from './helpers';
import { modelDeployTranscript, modelFirstDeployMs } from './model-deploy';

after(closeEndpoints);
let real: RealCluster;
before(async () => { real = await realCluster({ template: true }); });

const CREATED = new Date('2026-11-24T12:00:00Z');
const MIN = 60_000;

/** A clock that moves only when the command sleeps, so a watch runs in milliseconds. */
function clock(startMs: number) {
  let t = startMs;
  return { now: () => new Date(t), sleep: async (ms: number) => { t += ms; }, advance: (ms: number) => { t += ms; } };
}

const status = (argv: string[], account: Parameters<typeof runWithFake>[2], extra: Partial<CommandInputs> & { fake?: any } = {}) =>
  runWithFake(runStatusCommand, argv, account, extra);

describe('npm run status', () => {
  it('shows each node: instance, type, AZ, state, its bootstrap step and the time it has spent in it, and the step times so far', async () => {
    const d = deploying(real, CREATED);
    d.launch(2 * MIN);
    d.log('gpu-0', real.logs['gpu-0'], 12, 5 * MIN); // into step 6 of 11
    d.log('gpu-1', real.logs['gpu-1'], 6, 5 * MIN);
    const t = clock(CREATED.getTime() + 20 * MIN);
    const run = await status([], d.account, t);
    assert.equal(run.code, 0, run.text);
    assert.match(run.out[0], /^stack P5RayKvCluster \(us-east-1\): CREATE_IN_PROGRESS, created 2026-11-24T12:00Z \(20m 00s ago\)/);
    const row = (node: string) => run.out.find((l) => l.startsWith(`${node} `)) ?? '';
    assert.match(row('gpu-0'), new RegExp(`^gpu-0 +${IDS['gpu-0']} +p5\\.48xlarge +us-east-1a +running +step \\d+/\\d+: .* \\(\\d+m \\d+s so far\\)`));
    assert.match(row('head'), new RegExp(`^head +${IDS.head} +m7i\\.2xlarge +us-east-1a +running +no log yet: booting, user data not started \\(18m 00s since launch\\)`));
    assert.match(run.text, /gpu-0 step times: 1 \d+s · 2 \d+s/);
    assert.match(run.text, /readiness gate ClusterReadya1b2c3d4: CREATE_IN_PROGRESS; 0 of 3 nodes ready by their logs; CloudFormation rolls the stack back unless all are ready within bootstrapTimeoutMinutes=90/);
    assert.match(run.text, /spend guard: the stop time \(maxHours=8 after the nodes are created\) is set once the stack completes/);
  });

  it("prices the time so far at the cost review's prices: compute since each node's start, the rest since the stack was created", async () => {
    const d = deploying(real, CREATED);
    d.launch(30 * MIN);
    d.complete('2026-11-24T20:30:00Z');
    const run = await status([], d.account, clock(CREATED.getTime() + 90 * MIN));
    const report = buildCostReport({ template: JSON.parse(real.template ?? '{}'), region: 'us-east-1' });
    const compute = report.lines.filter((l) => l.pricing === 'on-demand' && l.stopsWithInstances).reduce((a, l) => a + (l.hourlyUsd ?? 0), 0);
    assert.equal(Math.round(compute * 1e4) / 1e4, 2 * 55.04 + 0.4032, 'two p5.48xlarge and the m7i.2xlarge head, from lib/catalog/prices.ts');
    const expected = compute * 1 + (report.totalHourlyUsd - compute) * 1.5;
    const shown = Number(/cost so far: \$([\d,.]+)/.exec(run.text)?.[1].replace(/,/g, ''));
    assert.ok(Math.abs(shown - expected) < 0.011, `${shown} vs ${expected}`);
    assert.match(run.text, /at the cost review's prices .*prices instances \d{4}-\d\d-\d\d, .*SkyPilot AWS catalog/);
    assert.match(run.text, /spend guard: GPU nodes stop at 2026-11-24T20:30:00Z \(7h 00m left; output SpendGuardStopTime\)/);
    assert.match(run.text, /readiness gate ClusterReadya1b2c3d4: CREATE_COMPLETE/);
  });

  it('bills a node the spend guard stopped until its stop time (EC2\'s state reason), and says it is stopped', async () => {
    const d = deploying(real, CREATED);
    d.launch(30 * MIN);
    d.complete('2026-11-24T20:30:00Z');
    // The spend guard stopped the GPU nodes 8 h after their launch; the head runs on. Seen 12 h after the stack's creation.
    const [gpu0, gpu1] = d.instances.filter((x) => x.type === 'p5.48xlarge');
    Object.assign(gpu0, { state: 'stopped', reason: 'User initiated (2026-11-24 20:30:00 GMT)' });
    Object.assign(gpu1, { state: 'stopped', reason: 'User initiated (2026-11-24 20:30:00 UTC)' });
    const run = await status([], d.account, clock(CREATED.getTime() + 12 * 60 * MIN));
    assert.equal(run.code, 0, run.text);
    const report = buildCostReport({ template: JSON.parse(real.template ?? '{}'), region: 'us-east-1' });
    const compute = report.lines.filter((l) => l.pricing === 'on-demand' && l.stopsWithInstances);
    const gpu = compute.filter((l) => l.description.startsWith('p5.48xlarge')).reduce((a, l) => a + (l.hourlyUsd ?? 0), 0);
    const head = compute.filter((l) => !l.description.startsWith('p5.48xlarge')).reduce((a, l) => a + (l.hourlyUsd ?? 0), 0);
    assert.equal(Math.round(gpu * 100) / 100, 2 * 55.04);
    // GPU nodes: 12:30 to 20:30; the head: 12:30 until now (24:00); everything else since the stack's creation.
    const expected = gpu * 8 + head * 11.5 + (report.totalHourlyUsd - gpu - head) * 12;
    const shown = Number(/cost so far: \$([\d,.]+)/.exec(run.text)?.[1].replace(/,/g, ''));
    assert.ok(Math.abs(shown - expected) < 0.011, `${shown} vs ${expected} (running until now would be ${expected + gpu * 3.5})`);
    const row = (node: string) => run.out.find((l) => l.startsWith(`${node} `)) ?? '';
    assert.match(row('gpu-0'), new RegExp(`^gpu-0 +${IDS['gpu-0']} +p5\\.48xlarge +us-east-1a +stopped at 2026-11-24T20:30Z `));
    assert.match(row('head'), / running /);
    assert.match(run.text, /cost so far: \$[\d,.]+ .*; gpu-0 and gpu-1 stopped at 2026-11-24T20:30Z: their compute is counted until then/);
  });

  it('says so, and counts the total as a lower bound, when a stopped node\'s stop time cannot be read', async () => {
    const d = deploying(real, CREATED);
    d.launch(30 * MIN);
    d.complete('2026-11-24T20:30:00Z');
    Object.assign(d.instances[0], { state: 'stopped', reason: 'Server.ScheduledStop: Stopped due to scheduled retirement' });
    const run = await status([], d.account, clock(CREATED.getTime() + 12 * 60 * MIN));
    assert.equal(run.code, 0, run.text);
    assert.match(run.text, /cost so far: ≥ \$[\d,.]+ .*; gpu-0 stopped at a time EC2 does not give \(state reason "Server\.ScheduledStop: Stopped due to scheduled retirement"\): its compute is not counted/);
  });

  it('says there is no stack, what to run first, and exits 1', async () => {
    const run = await status([], defaultAccount());
    assert.equal(run.code, 1);
    assert.deepEqual(run.err, [`error: no stack ${STACK} in us-east-1 (CloudFormation DescribeStacks): run \`npm run preflight\`, then \`npx cdk deploy\`; ` +
      'or select another with -c stackName=… / -c region=… / -c config=cluster.yaml']);
  });

  it('--watch shows a node moving through its bootstrap steps, then the ready state, and stops by itself', { timeout: 120_000 }, async () => {
    const d = deploying(real, CREATED);
    const t = clock(CREATED.getTime() + MIN);
    const n = real.logs['gpu-1'].length;
    // Each refresh (one DescribeStacks) moves the deploy on: launch, then the logs in four slices, then complete.
    let frame = 0;
    const frames = [
      () => undefined,
      () => d.launch(MIN),
      ...[0.25, 0.5, 0.75, 1].map((f) => () => {
        for (const node of ['gpu-0', 'gpu-1', 'head']) d.log(node, real.logs[node], Math.ceil(real.logs[node].length * f), 3 * MIN);
      }),
      () => d.complete('2026-11-24T20:05:00Z'),
    ];
    const run = await status(['--watch', '--interval', '15'], d.account, {
      ...t, fake: { onCall: (call: { action: string }) => { if (call.action === 'DescribeStacks') frames[Math.min(frame++, frames.length - 1)](); } },
    });
    assert.equal(run.code, 0, run.text);
    const steps = run.out.filter((l) => /\] gpu-1 +\d\d:\d\d:\d\d {2}step \d+\/\d+:/.test(l)).map((l) => Number(/step (\d+)\/\d+/.exec(l)?.[1]));
    assert.ok(steps.length >= 10, run.text);
    assert.deepEqual(steps, steps.map((_, i) => i + 1), 'every step shown once, in order');
    assert.ok(run.out.some((l) => /\] gpu-1 .* ready after \d+s: ray worker of 10\.0\.0\.10:6379/.test(l)), run.text);
    assert.ok(run.out.some((l) => /\] head .* step 1\/\d+: read the instance identity/.test(l)));
    assert.ok(run.out.some((l) => /\] gpu-0 i-0aaaaaaaaaaaaaaa0 running \(p5\.48xlarge, us-east-1a\)/.test(l)));
    assert.ok(run.out.some((l) => /\] stack CREATE_COMPLETE/.test(l)));
    assert.match(run.text, /gpu-1 +i-0aaaaaaaaaaaaaaa1 +p5\.48xlarge +us-east-1a +running +ready after \d+s/);
    assert.match(run.text, /ready after .* of watching: `npm run shell` opens a shell on the Ray head/);
    assert.ok(n > 11);
  });

  it('--watch stops on a failed deploy with the failing node, its reason and the last lines of its log', { timeout: 120_000 }, async () => {
    const d = deploying(real, CREATED);
    d.launch(MIN);
    d.log('gpu-0', real.logs['gpu-0'], 8, 3 * MIN);
    d.log('head', real.logs.head, 4, 3 * MIN);
    const t = clock(CREATED.getTime() + 10 * MIN);
    let calls = 0;
    const run = await status(['--watch'], d.account, {
      ...t,
      fake: {
        onCall: (call: { action: string }) => {
          if (call.action !== 'DescribeStacks' || ++calls !== 3) return;
          d.log('gpu-1', real.failedGpu1, undefined, 3 * MIN);
          d.fail(`WaitCondition received failed message: '${real.failReason}' for uniqueId: ${IDS['gpu-1']}`, 9 * MIN);
        },
      },
    });
    assert.equal(run.code, 1, run.text);
    assert.ok(run.out.includes(`FAILED: ClusterReadya1b2c3d4 (AWS::CloudFormation::WaitCondition) CREATE_FAILED: WaitCondition received failed message: '${real.failReason}' for uniqueId: ${IDS['gpu-1']}`), run.text);
    assert.ok(run.out.includes(`failing node: gpu-1 (${IDS['gpu-1']}): ${real.failReason}`), run.text);
    const tail = run.out.slice(run.out.findIndex((l) => l.startsWith("last lines of gpu-1's bootstrap log")) + 1);
    assert.match(tail.join('\n'), /gpu-1 +\d\d:\d\d:\d\d {2}FAILED: expected 8 H100 GPUs/);
    assert.match(tail.join('\n'), /signalling FAILURE to CloudFormation: step \d+\/\d+ \(verify 8 GPUs\)/);
    assert.match(run.text, /the stack is rolling back \(ROLLBACK_IN_PROGRESS\)/);
  });

  it('--watch waits for the stack to appear, and gives up at its timeout with exit code 3', { timeout: 120_000 }, async () => {
    const t = clock(CREATED.getTime());
    const run = await status(['--watch', '--timeout', '2', '--interval', '20'], defaultAccount(), t);
    assert.equal(run.code, 3, run.text);
    assert.match(run.out[0], /^waiting for stack P5RayKvCluster to appear in us-east-1/);
    assert.match(run.text, /stopped watching after 2m 00s: the stack is not there; run `npm run status -- --watch` again/);
    // 2 minutes at 20 s: seven looks, not one more.
    assert.equal(run.endpoint.actions.filter((a) => a === 'DescribeStacks').length, 7);
  });

  it('rejects a bad --interval or an unknown option with one line', async () => {
    for (const [argv, pattern] of [[['--watch', '--interval', 'soon'], /invalid option --interval=soon: must be a number of seconds/],
      [['--follow'], /unknown argument --follow/]] as Array<[string[], RegExp]>) {
      const run = await status(argv, defaultAccount());
      assert.equal(run.code, 2);
      assert.equal(run.err.length, 1);
      assert.match(run.err[0], pattern);
    }
  });
});

describe('npm run status -- --watch after a failed deploy', () => {
  it('waits for the new stack when the old one is ROLLBACK_COMPLETE, then follows the new one', { timeout: 120_000 }, async () => {
    const d = deploying(real, CREATED);
    d.stack.status = 'ROLLBACK_COMPLETE';
    const t = clock(CREATED.getTime() + 60 * MIN);
    let looks = 0;
    const run = await status(['--watch'], d.account, {
      ...t,
      fake: {
        onCall: (call: { action: string }) => {
          if (call.action !== 'DescribeStacks') return;
          looks++;
          if (looks === 3) { d.stack.id = `${d.stack.id}-new`; d.stack.status = 'CREATE_IN_PROGRESS'; d.stack.creationTime = t.now(); }
          if (looks === 5) { d.launch(61 * MIN); d.complete('2026-11-24T21:00:00Z'); }
        },
      },
    });
    assert.equal(run.code, 0, run.text);
    assert.match(run.out[0], /^stack P5RayKvCluster is ROLLBACK_COMPLETE from an earlier deploy \(created 2026-11-24T12:00Z\); `npx cdk deploy` deletes it and creates it again: waiting for the new one$/);
    assert.match(run.text, /stack P5RayKvCluster \(us-east-1\): CREATE_IN_PROGRESS/);
    assert.match(run.text, /\] stack CREATE_COMPLETE/);
  });
});

describe('docs/operations.md\'s `npm run status -- --watch` example', () => {
  it('is what the command prints for a first deploy timed by the deploy-time model, whose ClusterReady is the model\'s', { timeout: 120_000 }, async () => {
    const { out, code, clusterReadyMs } = await modelDeployTranscript(real);
    assert.equal(code, 0, out.join('\n'));
    // The re-timed logs compose like the model: the head signals at its first deploy's typical total.
    assert.ok(Math.abs(clusterReadyMs - modelFirstDeployMs()) <= 2000, `${clusterReadyMs} ms vs ${modelFirstDeployMs()} ms`);
    const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'operations.md'), 'utf8');
    const intro = /`npm run status -- --watch` during a first deploy[\s\S]*?```\n([\s\S]*?)\n```/.exec(doc);
    assert.ok(intro, 'the example in docs/operations.md');
    assert.ok(intro[0].includes(`\`ClusterReady\` at ${firstDeploy().typical.toFixed(1)} min`), 'its introduction quotes the model\'s total');
    // Every line of the excerpt, in order: "…" skips lines, a line ending in "…" is the start of one.
    let at = 0;
    for (const line of intro[1].split('\n')) {
      if (line === '…') continue;
      const matches = (l: string) => (line.endsWith('…') ? l.startsWith(line.slice(0, -1)) : l === line);
      const found = out.findIndex((l, i) => i >= at && matches(l));
      assert.ok(found >= 0, `docs/operations.md: "${line}" is not (in this order) in what the command prints:\n${out.join('\n')}`);
      at = found + 1;
    }
  });
});
