import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { PORTS } from '../../lib/catalog/ports';
import { FORWARD_TARGETS, SessionInputs, runForwardCommand, runShellCommand } from '../../lib/ops/session';
import { FakeEndpoint, startFakeAws } from '../preflight/fake-aws-endpoint';
import { IDS, RealCluster, deploying, realCluster } from './cluster-scenario';
import { FAKE_KEYS, closeEndpoints, runWithFake } from './helpers';
import { bareEnv, runScript, stubBin } from './run-script';

let real: RealCluster;
let fake: FakeEndpoint;
let scenario: ReturnType<typeof deploying>;
before(async () => {
  real = await realCluster({ logs: false });
  scenario = deploying(real, new Date('2026-11-24T12:00:00Z'));
  scenario.launch();
  scenario.complete('2026-11-24T20:00:00Z');
  scenario.instances.find((i) => i.id === IDS['gpu-1'])!.state = 'stopped';
  fake = await startFakeAws(scenario.account);
});
after(async () => { await fake.close(); await closeEndpoints(); });

/** The scripts, run as `npm run` runs them, with credentials and AWS_ENDPOINT_URL in the environment only. */
function envWith(bin: string): NodeJS.ProcessEnv {
  const env = bareEnv({ AWS_ENDPOINT_URL: fake.url, AWS_ACCESS_KEY_ID: FAKE_KEYS.accessKeyId, AWS_SECRET_ACCESS_KEY: FAKE_KEYS.secretAccessKey });
  // Only the stubs: a real aws or plugin elsewhere on this machine must not satisfy the checks.
  return { ...env, PATH: bin };
}

/**
 * The command in this process (one real `npm run shell` above covers the script around it): the same checks of
 * PATH and the same `aws` started from it, with only the stubs on PATH. Stderr's lines, as the script prints them.
 */
async function inProcess(command: (inputs: SessionInputs) => Promise<number>, argv: string[], bin: string) {
  const run = await runWithFake(command, argv, scenario.account, { env: { PATH: bin } });
  return { code: run.code, stderr: run.err.map((l) => `${l}\n`).join(''), errorLines: run.err.filter((l) => l.startsWith('error: ')) };
}

describe('npm run shell / npm run forward', () => {
  it('shell opens an SSM session on the Ray head by default, and on a named node', async () => {
    const stubs = stubBin(['aws', 'session-manager-plugin']);
    const head = await runScript('shell', [], envWith(stubs.dir));
    assert.equal(head.code, 0, head.stderr);
    assert.deepEqual(readFileSync(stubs.argsOf('aws'), 'utf8').trim().split('\n'),
      ['ssm', 'start-session', '--region', 'us-east-1', '--target', IDS.head]);
    assert.match(head.stderr, new RegExp(`running: aws ssm start-session --region us-east-1 --target ${IDS.head}`));
    const gpu0 = await inProcess(runShellCommand, ['gpu-0'], stubs.dir);
    assert.equal(gpu0.code, 0, gpu0.stderr);
    assert.match(readFileSync(stubs.argsOf('aws'), 'utf8'), new RegExp(`--target\\n${IDS['gpu-0']}\\n$`));
    // Found through the SDK with AWS_ENDPOINT_URL: the stack, then its instances by the stack-id tag.
    assert.ok(fake.actions.includes('DescribeStacks') && fake.actions.includes('DescribeInstances'));
  });

  it('forward runs AWS-StartPortForwardingSession to the port from lib/catalog/ports.ts', async () => {
    const stubs = stubBin(['aws', 'session-manager-plugin']);
    const run = await inProcess(runForwardCommand, ['serve', '--local-port', '18000'], stubs.dir);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(readFileSync(stubs.argsOf('aws'), 'utf8').trim().split('\n'), [
      'ssm', 'start-session', '--region', 'us-east-1', '--target', IDS.head, '--document-name', 'AWS-StartPortForwardingSession',
      '--parameters', `{"portNumber":["${PORTS.serveHttp}"],"localPortNumber":["18000"]}`]);
    assert.match(run.stderr, /OpenAI-compatible endpoint \(Ray Serve\) of head .* on http:\/\/localhost:18000\/v1/);
  });

  it('forwards Grafana on the head, which listens on its 127.0.0.1 only', async () => {
    const stubs = stubBin(['aws', 'session-manager-plugin']);
    const run = await inProcess(runForwardCommand, ['grafana'], stubs.dir);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(readFileSync(stubs.argsOf('aws'), 'utf8').includes(`{"portNumber":["${PORTS.grafana}"],"localPortNumber":["${PORTS.grafana}"]}`));
    assert.match(run.stderr, new RegExp(`Grafana .* of head .* on http://localhost:${PORTS.grafana}/`));
  });

  it('says the Session Manager plugin is missing, with where to get it, and starts nothing', async () => {
    const stubs = stubBin(['aws']);
    const run = await inProcess(runShellCommand, [], stubs.dir);
    assert.equal(run.code, 1);
    assert.deepEqual(run.errorLines, ['error: the Session Manager plugin for the AWS CLI (session-manager-plugin) is not on PATH: install it ' +
      '(https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html), then run this again']);
    assert.ok(!existsSync(stubs.argsOf('aws')), 'aws was not run');
    const noCli = await inProcess(runForwardCommand, [], stubBin([]).dir);
    assert.match(noCli.errorLines[0], /^error: the AWS CLI \(aws\) is not on PATH: install the AWS CLI v2/);
  });

  it('refuses a stopped node with the command that starts it', async () => {
    const stubs = stubBin(['aws', 'session-manager-plugin']);
    const run = await inProcess(runShellCommand, ['gpu-1'], stubs.dir);
    assert.equal(run.code, 1);
    assert.deepEqual(run.errorLines, [`error: gpu-1 (${IDS['gpu-1']}) is stopped, not running: start it with ` +
      `\`aws ec2 start-instances --region us-east-1 --instance-ids ${IDS['gpu-1']}\` (the spend guard stops the GPU nodes after maxHours)`]);
  });

  it('rejects an unknown target or node, listing the known ones', async () => {
    const target = await runWithFake(runForwardCommand, ['loki'], scenario.account);
    assert.equal(target.code, 2);
    assert.deepEqual(target.err, [`error: unknown forward target loki: the targets are dashboard (port ${PORTS.rayDashboard}), ` +
      `serve (port ${PORTS.serveHttp}), grafana (port ${PORTS.grafana}), prometheus (port ${PORTS.prometheus})`]);
    assert.deepEqual(target.endpoint.actions, [], 'checked before any AWS call');
    const node = await runWithFake(runForwardCommand, ['--node', 'gpu-9'], scenario.account);
    assert.equal(node.code, 2);
    assert.deepEqual(node.err, ['error: no node gpu-9 in this stack: the nodes are gpu-0, gpu-1, head']);
  });

  it('takes every forward target port from the port catalog', () => {
    const catalog = new Set<number>(Object.values(PORTS));
    for (const [name, t] of Object.entries(FORWARD_TARGETS)) assert.ok(catalog.has(t.port), `${name} port ${t.port} is in lib/catalog/ports.ts`);
  });
});
