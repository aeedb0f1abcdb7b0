/**
 * The node's degraded-state checks, end to end through the rendered user data with the real node-side Python:
 * LMCache's compiled kernels, NIXL on EFA under the Ray workers' environment, the node facts, the deadline from
 * the launch time, and a node that dies without its own report.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SOFTWARE } from '../../lib/catalog/software';
import { BUCKET, FEW_LOOKS, INSTANCE_ID, MODEL_SHA, context, healthyWorker, runNode } from './node-harness';

const HEAD_PUBLISHED = { STUB_HEAD_JSON: '{"ip":"10.0.0.10","port":6379,"instanceId":"i-0head","dashboardPort":8265}' };
const VERIFY = 'step 11/15 (verify the Python stack and LMCache\'s compiled kernels)';
const NIXL = 'step 12/15 (verify NIXL LIBFABRIC runs on EFA)';

function onlyFailure(run: Awaited<ReturnType<typeof runNode>>): string {
  assert.equal(run.signals.length, 1, run.stdout);
  assert.equal(run.signals[0].Status, 'FAILURE', run.signals[0].Reason);
  return run.signals[0].Reason;
}

describe('LMCache kernels', { concurrency: 4 }, () => {
  test('a build without lmcache.cuda_ops fails the node: LMCache would run its Python fallback', async () => {
    const run = await runNode(context(), HEAD_PUBLISHED, { python: { kernels: 'missing' } });
    const reason = onlyFailure(run);
    assert.ok(reason.startsWith(`${VERIFY}: lmcache was built without lmcache.cuda_ops (compiled: none)`), reason);
    assert.ok(!run.calls.some((c) => c.includes('nixl_probe.py')), 'stops before the next step');
  });

  test('kernels that do not load (an undefined torch symbol) fail the node with the loader\'s own words', async () => {
    const run = await runNode(context(), HEAD_PUBLISHED, { python: { kernels: 'undefined-symbol' } });
    assert.match(onlyFailure(run), /import lmcache\.cuda_ops: ImportError: .*undefined symbol: _ZN3c104cuda9SetDeviceEa/);
  });

  test('kernels that load but that lmcache.device_ops does not dispatch to fail the node', async () => {
    const run = await runNode(context(), { ...HEAD_PUBLISHED, STUB_LMCACHE_IGNORES_NATIVE: '1' });
    assert.match(onlyFailure(run),
      /LMCache dispatches multi_layer_kv_transfer to lmcache\.python_ops_fallback\.DeviceOps\.multi_layer_kv_transfer, not to the compiled lmcache\.cuda_ops/);
  });

  test('builds LMCache for the CUDA major version of vLLM\'s torch (LMCACHE_CUDA_MAJOR), and refuses one it cannot', async () => {
    const cu12 = await runNode(context(), { ...HEAD_PUBLISHED, STUB_TORCH_CUDA: '12.9' });
    assert.equal(cu12.signals[0]?.Status, 'SUCCESS', cu12.stdout);
    assert.match(cu12.calls.find((c) => c.startsWith('build-env')) ?? '', /LMCACHE_CUDA_MAJOR=12 /);
    const cpu = await runNode(context(), { ...HEAD_PUBLISHED, STUB_TORCH_CUDA: '' });
    assert.match(onlyFailure(cpu), /vLLM's torch reports CUDA '': LMCache 0\.5\.6 builds for CUDA 12 or 13/);
    assert.ok(!cpu.calls.some((c) => c.includes('--no-binary lmcache')));
  });
});

describe('NIXL on EFA', { concurrency: 4 }, () => {
  test('probes NIXL with exactly the Ray workers\' environment, and records the provider it chose', async () => {
    const run = await healthyWorker();
    assert.equal(run.signals[0]?.Status, 'SUCCESS', run.stdout);
    const rayEnv = Object.fromEntries(run.file('etc/p5-ray/ray.env').trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
    const probe = run.pythonCalls.find((c) => c.args.includes('nixl_probe.py'));
    assert.ok(probe, run.calls.join('\n'));
    // bash itself adds PWD, SHLVL and _ to any script it starts.
    const env = Object.fromEntries(Object.entries(probe.env).filter(([k]) => !['PWD', 'SHLVL', '_'].includes(k)));
    assert.deepEqual(env, rayEnv);
    assert.match(run.stdout, /\[bootstrap gpu 1\] {3}NIXL LIBFABRIC uses efa \(32 rails; FI_PROVIDER=efa LD_LIBRARY_PATH=\/opt\/amazon\/efa\/lib\)/);
    assert.match(run.signals[0].Data, /NIXL LIBFABRIC on efa/);
  });

  test('without EFA, the LIBFABRIC backend cannot start under FI_PROVIDER=efa, and the node fails', async () => {
    // Outside the workers' environment (no FI_PROVIDER) NIXL would quietly take tcp: python-files.test.ts.
    const run = await runNode(context(), { ...HEAD_PUBLISHED, STUB_FABRIC: 'tcp,sockets' });
    const reason = onlyFailure(run);
    assert.ok(reason.startsWith(`${NIXL}: NIXL backend LIBFABRIC did not start: RuntimeError: Failed to initialize the rail manager`), reason);
    assert.ok(!run.calls.some((c) => c.startsWith('aws s3 cp') && c.includes('cluster/nodes/')), 'no facts for a failed node');
  });

  test('nixlBackend=UCX passes only when UCX selects its EFA transport (srd), and records it', async () => {
    const ctx = context({ raw: { nixlBackend: 'UCX' } });
    const srd = await runNode(ctx, HEAD_PUBLISHED);
    assert.equal(srd.signals[0]?.Status, 'SUCCESS', srd.stdout);
    assert.match(srd.stdout, /NIXL UCX uses ucx:srd \(transports srd;/);
    assert.equal(JSON.parse(srd.file('etc/p5-ray/node-facts.json')).nixl.provider, 'ucx:srd');
    const tcp = await runNode(ctx, { ...HEAD_PUBLISHED, STUB_UCX_TL: 'tcp' });
    assert.match(onlyFailure(tcp), /verify NIXL UCX runs on EFA\): NIXL UCX chose ucx:tcp \(transports tcp\), not EFA/);
  });
});

describe('node facts', { concurrency: 4 }, () => {
  test('a GPU node writes what it verified, in the shape the benchmark scripts read, and uploads it', async () => {
    const run = await healthyWorker();
    assert.equal(run.signals[0]?.Status, 'SUCCESS', run.stdout);
    const facts = run.file('etc/p5-ray/node-facts.json');
    assert.equal(facts, run.file(`../s3/cluster/nodes/gpu-1.json`));
    assert.deepEqual(JSON.parse(facts), {
      role: 'gpu', index: 1, instanceId: INSTANCE_ID, privateIp: '10.0.0.21', instanceType: 'p5.48xlarge', gpus: 8,
      gpuName: 'NVIDIA H100 80GB HBM3', efaDevices: 32, nixl: { backend: 'LIBFABRIC', provider: 'efa', efa: true },
      lmcache: { compiledModules: ['lmcache.cuda_ops'] },
      versions: { ray: SOFTWARE.ray, vllm: SOFTWARE.vllm, nixl: SOFTWARE.nixl, lmcache: SOFTWARE.lmcache, torch: '2.11.0+cu130' },
      bootstrap: { venv: 'built', lmcacheWheel: 'built', weights: 'downloaded', modelRevision: MODEL_SHA },
    });
    assert.deepEqual(Object.keys(JSON.parse(facts)), ['role', 'index', 'instanceId', 'privateIp', 'instanceType', 'gpus',
      'gpuName', 'efaDevices', 'nixl', 'lmcache', 'versions', 'bootstrap']);
    assert.ok(run.calls.some((c) => c.includes(`s3://${BUCKET}/cluster/nodes/gpu-1.json`)));
  });

  test('the model download leaves out original/ and metal/ (other formats of the same weights)', async () => {
    const run = await healthyWorker();
    const download = JSON.parse(run.file('../hf-download.json'));
    assert.equal(download.repo_id, 'openai/gpt-oss-120b');
    assert.deepEqual(download.files.filter((f: string) => f.includes('/')), []);
    assert.ok(download.bytes < 70e9, `${download.bytes} bytes`);
  });
});

describe('the deadline and unreported deaths', { concurrency: 4 }, () => {
  test('counts the deadline from the instance launch, not from the script start', { timeout: 120_000 }, async () => {
    // Launched long enough ago that 3 s are left: the wait for S3 gives up by then (from the script start, it would
    // wait the whole window and hit this test's timeout).
    const run = await runNode(context(), { ...HEAD_PUBLISHED, STUB_S3_AFTER: '100000', ...FEW_LOOKS }, { waitLimit: 3 });
    const reason = onlyFailure(run);
    const within = Number(/cannot read \S+ within (\d+)s/.exec(reason)?.[1]);
    assert.ok(within <= 3, reason);
    assert.match(run.stdout, /deadline: launched \S+Z, ClusterReady waits 5400s, node deadline \S+Z, 300s before ClusterReady times out/);
  });

  test('a step still running at the deadline is stopped, and the node says so itself, once', { timeout: 120_000 }, async () => {
    // The NVMe check hangs (mountpoint on a wedged device) past the deadline.
    const run = await runNode(context(), { ...HEAD_PUBLISHED, STUB_HANG: '300', P5RAY_WATCHDOG_GRACE: '0' }, { waitLimit: 2 });
    const reason = onlyFailure(run);
    assert.match(reason, /^step 2\/15 \(wait for the NVMe instance store at \/opt\/dlami\/nvme\): still running at the bootstrap deadline \(launched \S+Z, ClusterReady waits 5400s, node deadline \S+Z\)/);
    assert.equal(run.code, 143);
  });

  test('a node that dies of set -u signals FAILURE exactly once, naming the step', async () => {
    // A setting missing from cluster.env (user data from an older synth): the script dies on the unbound variable.
    const run = await runNode(context(), HEAD_PUBLISHED, { editUserData: (u) => u.replace(/^NODE_FACTS_PREFIX=.*\n/m, '') });
    assert.match(run.stdout, /NODE_FACTS_PREFIX: unbound variable/);
    assert.match(onlyFailure(run), /^step 13\/15 \(record the node facts\): bootstrap ended unexpectedly \(exit 1; log: /);
  });

  test('a node killed by SIGTERM signals FAILURE exactly once, naming the step', async () => {
    const run = await runNode(context(), { ...HEAD_PUBLISHED, STUB_KILL: 'TERM' });
    assert.match(onlyFailure(run), /^step 2\/15 \(wait for the NVMe instance store at \/opt\/dlami\/nvme\): bootstrap ended unexpectedly \(exit 143;/);
  });
});

describe('no SIGPIPE', () => {
  test('nvidia-smi output larger than a pipe buffer does not fail a healthy node', async () => {
    const run = await runNode(context(), { ...HEAD_PUBLISHED, STUB_SMI_NOISE: '5000' });
    assert.equal(run.signals.length, 1, run.stdout);
    assert.equal(run.signals[0].Status, 'SUCCESS', run.signals[0].Reason);
  });
});
