/**
 * The opt-in deploy cache, end to end through the rendered user data against one fake S3 that outlives each run: a
 * first deploy fills it after SUCCESS (in the background), a repeat deploy restores the venv and the weights from
 * it (skipping the install, the LMCache build and the download) and still passes every check, and a corrupted
 * entry falls back to the normal path.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { MODEL_SHA, NodeRun, context, runNode } from './node-harness';

const HEAD_PUBLISHED = { STUB_HEAD_JSON: '{"ip":"10.0.0.10","port":6379,"instanceId":"i-0head","dashboardPort":8265}' };
const CACHE_BUCKET = 'p5-ray-cache-123456789012-us-east-1';
const cached = (gpuIndex: number) => context({ raw: { deployCache: true }, cacheBucketName: CACHE_BUCKET, gpuIndex });
const CACHE = 'p5-ray-cache/v1';

function filesUnder(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? filesUnder(join(dir, n)).map((f) => `${n}/${f}`) : [n])) : [];
}

function facts(run: NodeRun) {
  return JSON.parse(run.file('etc/p5-ray/node-facts.json'));
}

const installs = (run: NodeRun) => run.calls.filter((c) => /^uv pip install .*vllm==/.test(c));
const builds = (run: NodeRun) => run.calls.filter((c) => c.startsWith('venv-python -m pip wheel'));

describe('the deploy cache', { concurrency: 4 }, () => {
  let s3: string;
  let pristine: string;
  let first: NodeRun;
  /** The cache as the first deploy left it, for a test of its own to change; tests that only read it share `s3`. */
  const copyOfCache = () => {
    const copy = mkdtempSync(join(tmpdir(), 'p5-cache-s3-'));
    cpSync(pristine, copy, { recursive: true });
    return copy;
  };

  before(async () => {
    s3 = mkdtempSync(join(tmpdir(), 'p5-cache-s3-'));
    first = await runNode(cached(0), HEAD_PUBLISHED, { s3 });
    // Taken before the tests' runs write to s3 (their node facts, side by side): copies are never half-written.
    pristine = mkdtempSync(join(tmpdir(), 'p5-cache-s3-'));
    cpSync(s3, pristine, { recursive: true });
  });

  test('a first deploy builds everything, signals SUCCESS, and only then fills the cache', () => {
    assert.equal(first.signals[0]?.Status, 'SUCCESS', first.stdout);
    assert.equal(installs(first).length, 1);
    assert.equal(builds(first).length, 1);
    const log = first.file('var/log/p5-ray-bootstrap.log');
    const signalled = log.indexOf('signalling SUCCESS');
    const upload = log.indexOf('job cache-upload: started');
    assert.ok(signalled > 0 && upload > signalled, 'the upload starts after readiness was signalled');
    for (const what of ['venv: uploaded', 'wheel: uploaded', 'weights: uploaded']) assert.match(log, new RegExp(`job cache-upload: ${what} s3://${CACHE_BUCKET}/`));
    const entries = filesUnder(join(s3, CACHE));
    assert.ok(entries.some((f) => /^venv\/gpu\/[0-9a-f]{24}\/venv\.tar$/.test(f)), entries.join('\n'));
    assert.ok(entries.some((f) => /^lmcache\/[0-9a-f]{24}\/lmcache-0\.5\.6-cp312-cp312-linux_x86_64\.whl$/.test(f)), entries.join('\n'));
    assert.ok(entries.includes(`models/openai--gpt-oss-120b/${MODEL_SHA}/files/config.json`), entries.join('\n'));
    assert.ok(!entries.some((f) => /\/(original|metal)\//.test(f)), 'the same file set the download keeps');
    // Each entry's manifest holds every file's size and SHA-256, and the inputs of its key.
    const manifest = JSON.parse(readFileSync(join(s3, CACHE, entries.find((f) => f.startsWith('venv/gpu/') && f.endsWith('manifest.json'))!), 'utf8'));
    assert.deepEqual(Object.keys(manifest.inputs).sort(), ['arch', 'lmcache', 'nixl', 'python', 'ray', 'recipe', 'torch', 'vllm']);
    assert.match(manifest.files['venv.tar'].sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(facts(first).bootstrap, { venv: 'built', lmcacheWheel: 'built', weights: 'downloaded', modelRevision: MODEL_SHA });
  });

  test('the upload runs at idle priority with a capped bandwidth, without bytecode, and leaves its state beside the node facts', () => {
    assert.ok(first.calls.includes(`systemd-run --unit=p5-ray-cache-upload --collect --quiet -p Nice=19 -p IOSchedulingClass=idle -p CPUWeight=idle -- bash ${first.root}/opt/p5-ray/bin/bootstrap-node.sh ${first.root}/etc/p5-ray/cluster.env --upload-cache`),
      first.calls.filter((c) => c.startsWith('systemd-run')).join('\n'));
    // Uploads: the classic transfer client, the one that honours max_bandwidth; restores (on a deploy's critical path):
    // the CRT client, uncapped.
    const configs = first.calls.filter((c) => c.startsWith('aws-config s3 cp'));
    const puts = configs.filter((c) => / s3:\/\/p5-ray-cache-\S+ ::/.test(c) && !/ - ::/.test(c) && c.includes(' /'));
    assert.ok(puts.length >= 3 && puts.every((c) => c.endsWith(':: [default] s3 =     preferred_transfer_client = classic     max_concurrent_requests = 8     max_bandwidth = 250MB/s ')),
      configs.join('\n'));
    assert.ok(configs.some((c) => c.includes('manifest.json -') && c.endsWith(':: [default] s3 =     preferred_transfer_client = crt ')), configs.join('\n'));
    // Python writes bytecode into a venv Ray runs from while tar reads it: __pycache__ stays out of the archive.
    const [tar] = filesUnder(join(s3, CACHE)).filter((f) => /^venv\/gpu\/.*\/venv\.tar$/.test(f));
    const listing = execFileSync('tar', ['-tf', join(s3, CACHE, tar)], { encoding: 'utf8' });
    assert.match(listing, /^venv\/bin\/python$/m);
    assert.doesNotMatch(listing, /__pycache__/);
    // Marked running before the node signalled, done at the end: run_all.sh waits on it before benchmarking.
    const marker = first.calls.findIndex((c) => c.includes('cluster/nodes/gpu-0.cache-upload.json'));
    const signal = first.calls.findIndex((c) => c.startsWith('curl') && c.includes('cloudformation-waitcondition'));
    assert.ok(marker >= 0 && marker < signal, 'the running marker is written before the signal');
    const state = JSON.parse(readFileSync(join(s3, 'cluster', 'nodes', 'gpu-0.cache-upload.json'), 'utf8'));
    assert.equal(state.state, 'done');
    assert.equal(state.node, 'gpu-0');
    assert.match(state.started, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  test('a repeat deploy restores the venv and the weights, skips install, build and download, and passes the same checks', async () => {
    // As GPU node 0, the one that uploads after a first deploy: only what it restored keeps it from uploading again.
    const run = await runNode(cached(0), HEAD_PUBLISHED, { s3 });
    assert.equal(run.signals[0]?.Status, 'SUCCESS', run.stdout);
    assert.deepEqual(installs(run), []);
    assert.deepEqual(builds(run), []);
    assert.ok(!existsSync(join(run.dir, 'hf-download.json')), 'the Hub download never ran');
    assert.match(run.stdout, /job stack-install: cache venv: hit: s3:\/\/\S+\/venv\/gpu\/[0-9a-f]{24}\/ \(1 files, .* sha256 verified\)/);
    assert.match(run.stdout, /job model-download: cache weights: hit: s3:\/\/\S+\/models\/openai--gpt-oss-120b\/8b49dbe3\S*\/ \(\d+ files/);
    // The restored stack went through the same verify step and probes.
    assert.ok(run.calls.some((c) => c.includes('verify_stack.py')) && run.calls.some((c) => c.includes('nixl_probe.py')));
    assert.deepEqual(facts(run).bootstrap, { venv: 'cache', lmcacheWheel: 'venv', weights: 'cache', modelRevision: MODEL_SHA });
    assert.match(run.signals[0].Data, /venv cache, lmcache wheel venv, weights cache/);
    const snapshot = `opt/dlami/nvme/hf/hub/models--openai--gpt-oss-120b`;
    assert.equal(run.file(`${snapshot}/refs/main`), MODEL_SHA);
    assert.equal(run.file(`${snapshot}/snapshots/${MODEL_SHA}/config.json`), 'openai/gpt-oss-120b/config.json\n');
    assert.doesNotMatch(run.file('var/log/p5-ray-bootstrap.log'), /cache-upload/, 'nothing new to upload');
    assert.ok(!run.calls.some((c) => c.startsWith('systemd-run')), 'no upload started');
  });

  test('a restored venv that fails the checks fails the node, saying the venv came from the cache', async () => {
    const run = await runNode(cached(1), HEAD_PUBLISHED, { s3, python: { kernels: 'missing' } });
    assert.equal(run.signals.length, 1, run.stdout);
    assert.match(run.signals[0].Reason, /lmcache was built without lmcache\.cuda_ops .* \(venv cache\)$/);
  });

  test('a corrupted venv archive is a miss: the node installs and builds as on a first deploy', async () => {
    const cache = copyOfCache();
    const [tar] = filesUnder(join(cache, CACHE)).filter((f) => /^venv\/gpu\/.*\/venv\.tar$/.test(f));
    appendFileSync(join(cache, CACHE, tar), 'x');
    const run = await runNode(cached(1), HEAD_PUBLISHED, { s3: cache });
    assert.equal(run.signals[0]?.Status, 'SUCCESS', run.stdout);
    assert.match(run.stdout, /job stack-install: cache venv: miss: venv\.tar is \d+ bytes, the manifest says \d+/);
    assert.equal(installs(run).length, 1);
    // The LMCache wheel entry is intact: restored instead of rebuilt.
    assert.deepEqual(builds(run), []);
    assert.match(run.stdout, /job lmcache-build: cache wheel: hit: /);
    assert.deepEqual(facts(run).bootstrap, { venv: 'built', lmcacheWheel: 'cache', weights: 'cache', modelRevision: MODEL_SHA });
  });

  test('weights whose content does not match the manifest are a miss: the node downloads them', async () => {
    const cache = copyOfCache();
    const shard = join(cache, CACHE, `models/openai--gpt-oss-120b/${MODEL_SHA}/files/model-00003-of-00014.safetensors`);
    writeFileSync(shard, readFileSync(shard, 'utf8').replace('openai', 'OPENAI'));
    const run = await runNode(cached(1), HEAD_PUBLISHED, { s3: cache });
    assert.equal(run.signals[0]?.Status, 'SUCCESS', run.stdout);
    assert.match(run.stdout, /job model-download: cache weights: miss: sha256 of model-00003-of-00014\.safetensors is [0-9a-f]{16}…, the manifest says/);
    assert.ok(existsSync(join(run.dir, 'hf-download.json')), 'downloaded from the Hub instead');
    assert.equal(facts(run).bootstrap.weights, 'downloaded');
  });

  test('a weights restore that breaks off on anything (a manifest of another shape) leaves no file in the snapshot: the download starts clean', async () => {
    const cache = copyOfCache();
    const manifestPath = join(cache, CACHE, `models/openai--gpt-oss-120b/${MODEL_SHA}/manifest.json`);
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const shard = readFileSync(join(cache, CACHE, `models/openai--gpt-oss-120b/${MODEL_SHA}/files/model-00003-of-00014.safetensors`), 'utf8');
    manifest.files['model-00003-of-00014.safetensors'] = { size: shard.length };
    writeFileSync(manifestPath, JSON.stringify(manifest));
    const run = await runNode(cached(1), HEAD_PUBLISHED, { s3: cache });
    assert.equal(run.signals[0]?.Status, 'SUCCESS', run.stdout);
    assert.match(run.stdout, /job model-download: cache weights: miss: a manifest of another shape \(KeyError: 'sha256'\)/);
    assert.ok(existsSync(join(run.dir, 'hf-download.json')), 'downloaded from the Hub instead');
    const snapshots = join(run.root, 'opt/dlami/nvme/hf/hub/models--openai--gpt-oss-120b/snapshots');
    assert.deepEqual(readdirSync(snapshots), [MODEL_SHA], 'no partial folder left');
  });

  test('a venv archive that passes its checksums but does not unpack is a miss, and leaves no partial tree', async () => {
    const cache = copyOfCache();
    const [tar] = filesUnder(join(cache, CACHE)).filter((f) => /^venv\/gpu\/.*\/venv\.tar$/.test(f));
    const garbage = 'not a tar archive\n'.repeat(100);
    writeFileSync(join(cache, CACHE, tar), garbage);
    const manifestPath = join(cache, CACHE, tar.replace(/venv\.tar$/, 'manifest.json'));
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    manifest.files['venv.tar'] = { size: garbage.length, sha256: createHash('sha256').update(garbage).digest('hex') };
    writeFileSync(manifestPath, JSON.stringify(manifest));
    const run = await runNode(cached(1), HEAD_PUBLISHED, { s3: cache });
    assert.equal(run.signals[0]?.Status, 'SUCCESS', run.stdout);
    assert.match(run.stdout, /job stack-install: cache venv: miss: Command '\['tar'/);
    assert.deepEqual(readdirSync(join(run.root, 'opt/p5-ray')).filter((n) => n.startsWith('.restore-')), []);
  });

  test('the CPU head restores and fills its own venv entry, apart from the GPU nodes\'', async () => {
    const cache = copyOfCache();
    const head = (over = {}) => runNode(context({ role: 'head', isRayHead: true, gpuIndex: 0, raw: { deployCache: true }, cacheBucketName: CACHE_BUCKET }),
      { STUB_IP: '10.0.0.10', ...over }, { s3: cache });
    const firstHead = await head();
    assert.equal(firstHead.signals[0]?.Status, 'SUCCESS', firstHead.stdout);
    assert.match(firstHead.file('var/log/p5-ray-bootstrap.log'), /job cache-upload: venv: uploaded s3:\/\/\S+\/venv\/cpu\//);
    const again = await head();
    assert.match(again.stdout, /job stack-install: cache venv: hit: s3:\/\/\S+\/venv\/cpu\//);
    assert.deepEqual(installs(again), []);
    assert.doesNotMatch(again.file('var/log/p5-ray-bootstrap.log'), /cache-upload/, 'nothing new to upload');
  });

  test('an upload that fails leaves the state failed with the reason, and the node stays ready', async () => {
    const run = await runNode(cached(0), { ...HEAD_PUBLISHED, STUB_S3_PUT_FAIL: '/venv/' });
    assert.equal(run.signals[0]?.Status, 'SUCCESS', run.stdout);
    const state = JSON.parse(readFileSync(join(run.dir, 's3', 'cluster', 'nodes', 'gpu-0.cache-upload.json'), 'utf8'));
    assert.equal(state.state, 'failed');
    assert.match(state.detail, /^venv: upload failed: .*AccessDenied/);
  });
});
