/**
 * The overlapped bootstrap, as its stubs record it: the model download, the stack install (torch first) and the LMCache
 * build run side by side and are joined before the checks; a failing job fails the node with its reason; the node
 * waits for S3 and for the NAT route, with a bound and a reason, instead of CloudFormation making it wait.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { FEW_LOOKS, context, healthyWorker, runNode } from './node-harness';

const HEAD_PUBLISHED = { STUB_HEAD_JSON: '{"ip":"10.0.0.10","port":6379,"instanceId":"i-0head","dashboardPort":8265}' };

/** The stubs' start and end times (ms) per activity. */
function timeline(dir: string): Record<string, { start: number; end: number }> {
  const spans: Record<string, { start: number; end: number }> = {};
  for (const line of readFileSync(join(dir, 'timeline.log'), 'utf8').trim().split('\n')) {
    const [ms, event, what] = line.split(' ');
    spans[what] = { ...spans[what], [event]: Number(ms) };
  }
  return spans;
}

// The jobs' stand-ins end by each other's progress, not after sleeps (the harness's hold): the stack install ends only
// after the download and the build, and they end only after it started. Jobs run one after another never meet, and
// the bounded wait fails the node saying so.
const OVERLAPPED = { STUB_OVERLAP: '1' };

/** How long two intervals ran at the same time, ms. */
const overlap = (a: { start: number; end: number }, b: { start: number; end: number }) =>
  Math.max(0, Math.min(a.end, b.end) - Math.max(a.start, b.start));

describe('the overlapped bootstrap', { concurrency: 3 }, () => {
  test('downloads the model while the stack installs, builds LMCache beside the stack install, and joins them before the checks', async () => {
    const run = await runNode(context(), { ...HEAD_PUBLISHED, ...OVERLAPPED });
    assert.equal(run.signals[0]?.Status, 'SUCCESS', run.stdout);
    const t = timeline(run.dir);
    // The model download starts before the stack install ends (in fact with it).
    assert.ok(t['model-download'].start < t.stack.end, JSON.stringify(t));
    // LMCache is built against the torch installed first, while the rest of the stack installs.
    assert.ok(t['lmcache-build'].start >= t.torch.end, JSON.stringify(t));
    assert.ok(t['lmcache-build'].start < t.stack.end, JSON.stringify(t));
    // The checks run on the joined result: the stack verify starts after every job ended.
    const log = run.file('var/log/p5-ray-bootstrap.log');
    const verifyAt = Date.parse(/^(\S+) \[bootstrap gpu 1\] step 11\/15: verify the Python stack/m.exec(log)![1]);
    assert.ok(verifyAt >= Math.floor(Math.max(t['model-download'].end, t.stack.end, t['lmcache-build'].end) / 1000) * 1000, log);
    // The download and the build ran (almost) entirely during the stack install, not after it.
    assert.ok(overlap(t['model-download'], t.stack) > 0.5 * (t['model-download'].end - t['model-download'].start), JSON.stringify(t));
    assert.ok(overlap(t['lmcache-build'], t.stack) > 0.5 * (t['lmcache-build'].end - t['lmcache-build'].start), JSON.stringify(t));
    const serial = (t.torch.end - t.torch.start) + (t.stack.end - t.stack.start) + (t['lmcache-build'].end - t['lmcache-build'].start) +
      (t['model-download'].end - t['model-download'].start);
    const span = Math.max(...Object.values(t).map((x) => x.end)) - Math.min(...Object.values(t).map((x) => x.start));
    console.log(`held jobs: serial ${serial} ms, overlapped ${span} ms (${JSON.stringify(t)})`);
  });

  test('says each job\'s start, end and source in the CloudWatch lines, and sums the node up in one line', async () => {
    const run = await healthyWorker();
    const cw = run.calls.filter((c) => c.startsWith('aws logs put-log-events')).join('\n');
    for (const job of ['model-download', 'stack-install', 'lmcache-build']) {
      assert.match(cw, new RegExp(`\\[bootstrap gpu 1\\] job ${job}: started \\(\\d+s\\)`));
      assert.match(cw, new RegExp(`\\[bootstrap gpu 1\\] job ${job}: done \\(\\d+s\\)`));
    }
    const timing = /\[bootstrap gpu 1\] timing: (\d+)s after launch \(boot (\d+)s, bootstrap (\d+)s\); steps (.*); jobs (.*); critical path: (.*)/.exec(run.stdout);
    assert.ok(timing, run.stdout);
    assert.match(timing[4], /identity \d+s, nvme \d+s, .*join \d+s, verify \d+s/);
    for (const job of ['model-download \\d+s\\+\\d+s \\(downloaded\\)', 'stack-install \\d+s\\+\\d+s \\(built\\)', 'lmcache-build \\d+s\\+\\d+s \\(built\\)']) {
      assert.match(timing[5], new RegExp(job));
    }
    // The longest step; when it is the join, with the job that ended last (which one depends on the machine here).
    assert.match(timing[6], /^(\w+|join <- (model-download|lmcache-build|stack-install|monitoring))$/);
    // The download's environment is on the NVMe, uv's cache on the root volume: copied, not hard-linked.
    assert.ok(run.calls.some((c) => /^uv-env UV_LINK_MODE=copy .* :: pip install --python \S+\/hf-env\/bin\/python huggingface_hub==/.test(c)),
      run.calls.filter((c) => c.startsWith('uv-env')).join('\n'));
    // The summary goes to the bucket for the Ray head's cluster line.
    const doc = JSON.parse(run.file('../s3/cluster/nodes/gpu-1.timing.json'));
    assert.equal(doc.node, 'gpu-1');
    assert.deepEqual(Object.keys(doc.jobs).sort(), ['lmcache-build', 'model-download', 'monitoring', 'stack-install']);
    assert.equal(doc.critical, timing[6]);
    // The grammar other tools parse is unchanged.
    assert.match(run.stdout, /\[bootstrap gpu 1\] ready after \d+s: /);
    assert.match(run.stdout, /\[bootstrap gpu 1\] signalling SUCCESS to CloudFormation: gpu 1 ready after \d+s/);
  });

  test('a failing LMCache build fails the node with its command, while the other jobs still run, and stops them', async () => {
    const run = await runNode(context(), { ...HEAD_PUBLISHED, STUB_BUILD_RC: '1', STUB_STACK_SECONDS: '40' });
    assert.equal(run.signals.length, 1, run.stdout);
    assert.equal(run.signals[0].Status, 'FAILURE');
    assert.match(run.signals[0].Reason, /job lmcache-build failed: 'LMCACHE_CUDA_MAJOR=.*' exited 1 \(line \d+\)/);
    // Fails fast: not after the 40 s stack install, which it stops.
    const t = timeline(run.dir);
    assert.equal(t.stack.end, undefined, 'the stack install was stopped, not waited for');
  });

  test('a failing model download fails the node with the Hub\'s error', async () => {
    const run = await runNode(context(), { ...HEAD_PUBLISHED, STUB_DOWNLOAD_FAIL: '1' });
    assert.equal(run.signals.length, 1, run.stdout);
    assert.match(run.signals[0].Reason, /job model-download failed: openai\/gpt-oss-120b download failed: .*401 Client Error: Unauthorized/);
  });

  test('a job that dies without a result (the model download SIGKILLed) fails the node naming the job, never SUCCESS', async () => {
    const run = await runNode(context(), { ...HEAD_PUBLISHED, STUB_DOWNLOAD_KILL: '1' });
    assert.equal(run.signals.length, 1, run.stdout);
    assert.equal(run.signals[0].Status, 'FAILURE', run.stdout);
    assert.match(run.signals[0].Reason, /job model-download ended without a result \(exit 137\)/);
  });

  test('weights that the download left unusable (refs/main naming another commit) fail the node before SUCCESS', async () => {
    const run = await runNode(context(), { ...HEAD_PUBLISHED, STUB_REFS_MAIN: '0'.repeat(40) });
    assert.equal(run.signals.length, 1, run.stdout);
    assert.equal(run.signals[0].Status, 'FAILURE', run.stdout);
    assert.match(run.signals[0].Reason, /verify the Python stack.*: the model weights are not usable \(weights downloaded\): refs\/main of openai\/gpt-oss-120b names 0{40}, which has no snapshot/);
  });

  test('the CPU head runs only the stack install and the monitoring stack in the background, and prints the cluster line', async () => {
    const run = await runNode(context({ role: 'head', isRayHead: true, gpuIndex: 0 }), { STUB_IP: '10.0.0.10' });
    assert.equal(run.signals[0]?.Status, 'SUCCESS', run.stdout);
    assert.match(run.stdout, /step \d+\/12: start the install of ray/);
    assert.doesNotMatch(run.stdout, /job (model-download|lmcache-build)/);
    // No GPU node has published its timing here: the head says so instead of waiting.
    // Diagnostics only: the head signals first, then waits (bounded) for the GPU nodes' timing files.
    const signalled = run.stdout.indexOf('signalling SUCCESS');
    assert.ok(signalled >= 0 && signalled < run.stdout.indexOf('waiting for the timing of gpu-0'), run.stdout);
    assert.match(run.stdout, /\[bootstrap head 0\] cluster timing: ready \d+s after the first launch \(\S+\); head-0 ready \d+s \([^)]*\), gpu-0 \?, gpu-1 \?; slowest head-0/);
  });
});

describe('network paths, waited for by the node', { concurrency: 3 }, () => {
  test('waits for S3 (the gateway endpoint, the role\'s policy) with progress, then goes on', async () => {
    const run = await runNode(context(), { ...HEAD_PUBLISHED, STUB_S3_AFTER: '4' });
    assert.equal(run.signals[0]?.Status, 'SUCCESS', run.stdout);
    assert.match(run.stdout, /waiting for S3 \(s3:\/\/\S+python\.zip\) \(\d+s of at most \d+s\): fatal error: Could not connect/);
  });

  test('starts before the NAT route exists: fetches from S3, then waits for PyPI and the Hub with progress', async () => {
    const run = await runNode(context(), { ...HEAD_PUBLISHED, STUB_NAT_AFTER: '8' });
    assert.equal(run.signals[0]?.Status, 'SUCCESS', run.stdout);
    assert.match(run.stdout, /job (stack-install|model-download): +waiting for a route to (PyPI|Hugging Face) .*curl: \(28\) Connection timed out/);
    const log = run.file('var/log/p5-ray-bootstrap.log');
    assert.ok(log.indexOf('files in /opt/p5-ray/bin') < log.indexOf('waiting for a route'), 'the S3 asset came first, without the NAT');
  });

  test('a working but slow route counts as a route: the probe asks for headers of a small page, with a connect timeout', async () => {
    const run = await runNode(context(), { ...HEAD_PUBLISHED, STUB_SLOW_NET: '1', P5RAY_NET_WAIT: '10' });
    assert.equal(run.signals[0]?.Status, 'SUCCESS', run.stdout);
    assert.ok(run.calls.includes('curl -sS -o /dev/null -I --connect-timeout 5 --max-time 15 https://pypi.org/simple/pip/'), run.calls.filter((c) => c.includes('pypi')).join('\n'));
  });

  test('no NAT route at all fails the node within the network wait, saying which route is missing', async () => {
    const run = await runNode(context(), { ...HEAD_PUBLISHED, STUB_NO_NAT: '1', P5RAY_NET_WAIT: '2', ...FEW_LOOKS });
    assert.equal(run.signals.length, 1, run.stdout);
    assert.match(run.signals[0].Reason, /job (model-download|stack-install) failed: no route to (PyPI|Hugging Face) \(https:\/\/\S+\) within 2s: the NAT gateway or the subnet's route to it is not there \(curl: \(28\) Connection timed out/);
  });
});
