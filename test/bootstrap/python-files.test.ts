/**
 * The node-side Python files (lib/bootstrap/python) run directly with the machine's Python against the stand-in
 * packages of test/bootstrap/fakes, and ruff on them. The node tests (node-*.test.ts) run them through the user data.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { App, Stack, aws_s3_assets as s3_assets } from 'aws-cdk-lib';
import { BOOTSTRAP_ASSET_FILES, BOOTSTRAP_PYTHON, BOOTSTRAP_PYTHON_DIR, stageBootstrapAsset } from '../../lib/bootstrap';
import { SOFTWARE } from '../../lib/catalog/software';
import { REHEARSAL_ASSETS_DIR } from '../../lib/rehearsal';
import { FAKES_DIR, FakePythonOptions, REAL_PYTHON, makeFakePython } from './python-env';

const REPO = join(__dirname, '..', '..');
const PINS = [`ray=${SOFTWARE.ray}`, `vllm=${SOFTWARE.vllm}`, `nixl=${SOFTWARE.nixl}`, `lmcache=${SOFTWARE.lmcache}`];
/** What ray.env gives a GPU node's workers (lib/bootstrap/scripts/steps.sh, step_ray_env). */
const WORKER_ENV = { FI_PROVIDER: 'efa', LD_LIBRARY_PATH: '/opt/amazon/efa/lib' };

interface Run { code: number | null; out: string; dir: string; json(name: string): any }

function runPython(script: string, args: string[], env: Record<string, string> = {}, options: FakePythonOptions = {}): Run {
  const dir = mkdtempSync(join(tmpdir(), 'p5-py-'));
  const site = makeFakePython(dir, options);
  // Nothing inherited: the bootstrap runs these under env -i with the workers' environment.
  const r = spawnSync(REAL_PYTHON.executable, [join(BOOTSTRAP_PYTHON_DIR, script), ...args], {
    encoding: 'utf8', cwd: dir,
    env: { PATH: '/usr/bin:/bin', PYTHONPATH: site, PYTHONDONTWRITEBYTECODE: '1', STUB_DIR: dir, ...env },
  });
  return { code: r.status, out: r.stdout + r.stderr, dir, json: (name) => JSON.parse(readFileSync(join(dir, name), 'utf8')) };
}

/** The probe's verdict line (what the bootstrap reports), without its mark. */
const lastLine = (out: string) => {
  const marked = out.split('\n').filter((l) => l.startsWith('p5-ray-verdict: '));
  assert.equal(marked.length, 1, out);
  return marked[0].slice('p5-ray-verdict: '.length);
};

/** ruff from the test venv (scripts/setup.sh installs it there), else from PATH. */
function ruff(): string {
  const venv = join(REPO, '.test-venv', 'bin', 'ruff');
  return existsSync(venv) ? venv : 'ruff';
}

describe('ruff', () => {
  test('is clean on the node-side Python, the rehearsal\'s own and the stand-in packages', () => {
    const r = spawnSync(ruff(), ['check', '--no-cache', '--config', join(BOOTSTRAP_PYTHON_DIR, 'ruff.toml'), BOOTSTRAP_PYTHON_DIR, FAKES_DIR,
      REHEARSAL_ASSETS_DIR, join(REPO, 'test', 'rehearsal')],
      { encoding: 'utf8', cwd: REPO });
    assert.ok(!r.error, `ruff not found (bash scripts/setup.sh installs it into .test-venv): ${r.error}`);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  test('BOOTSTRAP_PYTHON lists every Python file the node gets', () => {
    assert.deepEqual(readdirSync(BOOTSTRAP_PYTHON_DIR).filter((f) => f.endsWith('.py')).sort(), [...BOOTSTRAP_PYTHON].sort());
  });
});

describe('verify_stack.py', { concurrency: 4 }, () => {
  const verify = (options: FakePythonOptions = {}, env: Record<string, string> = {}) =>
    runPython('verify_stack.py', ['--facts', 'stack.json', '--gpu', ...PINS], { ...WORKER_ENV, ...env }, options);

  test('passes the pinned stack with compiled LMCache kernels, and records them', () => {
    const r = verify();
    assert.equal(r.code, 0, r.out);
    assert.equal(lastLine(r.out), `ray=${SOFTWARE.ray} vllm=${SOFTWARE.vllm} nixl=${SOFTWARE.nixl} lmcache=${SOFTWARE.lmcache} torch=2.11.0+cu130`);
    assert.deepEqual(r.json('stack.json').lmcache, { compiledModules: ['lmcache.cuda_ops'] });
  });

  test('fails when LMCache was built without lmcache.cuda_ops (its ops would run as the Python fallback)', () => {
    const r = verify({ kernels: 'missing' });
    assert.equal(r.code, 1);
    assert.match(lastLine(r.out), /^lmcache was built without lmcache\.cuda_ops \(compiled: none\): its CUDA kernels would run as the Python fallback$/);
  });

  test('fails when the kernels do not load, which LMCache itself only logs', () => {
    const r = verify({ kernels: 'undefined-symbol' });
    assert.equal(r.code, 1);
    assert.match(r.out, /WARNING lmcache\.cuda_ops compiled extension not found/, 'the stand-in LMCache logged and carried on');
    assert.match(lastLine(r.out), /^import lmcache\.cuda_ops: ImportError: .*undefined symbol: _ZN3c104cuda9SetDeviceEa$/);
  });

  test('fails when the kernels load but LMCache dispatches to its fallback', () => {
    const r = verify({}, { STUB_LMCACHE_IGNORES_NATIVE: '1' });
    assert.equal(r.code, 1);
    assert.match(lastLine(r.out), /dispatches multi_layer_kv_transfer to lmcache\.python_ops_fallback\.DeviceOps\.multi_layer_kv_transfer/);
  });

  test('fails on a version other than the pinned one', () => {
    const r = verify({ versions: { vllm: '0.25.1' } });
    assert.equal(r.code, 1);
    assert.match(lastLine(r.out), new RegExp(`^vllm 0\\.25\\.1 installed, ${SOFTWARE.vllm.replace(/\./g, '\\.')} pinned$`));
  });

  test('on the CPU head checks only Ray and vLLM', () => {
    const r = runPython('verify_stack.py', ['--facts', 'stack.json', ...PINS.slice(0, 3)], {}, { kernels: 'missing' });
    assert.equal(r.code, 0, r.out);
    assert.equal(r.json('stack.json').lmcache, undefined);
  });
});

describe('nixl_probe.py', { concurrency: 4 }, () => {
  const probe = (backend: string, env: Record<string, string>, extra: string[] = []) => runPython('nixl_probe.py', ['--backend', backend, '--facts', 'nixl.json', ...extra], env);

  test('passes LIBFABRIC on efa and records the provider', () => {
    const r = probe('LIBFABRIC', WORKER_ENV);
    assert.equal(r.code, 0, r.out);
    assert.match(lastLine(r.out), /^NIXL LIBFABRIC uses efa \(32 rails; FI_PROVIDER=efa LD_LIBRARY_PATH=\/opt\/amazon\/efa\/lib\)$/);
    assert.deepEqual(r.json('nixl.json'), { backend: 'LIBFABRIC', provider: 'efa', efa: true });
  });

  test('fails when LIBFABRIC falls back to tcp (here: without the EFA installer\'s libfabric on the path)', () => {
    const r = probe('LIBFABRIC', {});
    assert.equal(r.code, 1, r.out);
    assert.match(lastLine(r.out), /^NIXL LIBFABRIC chose tcp \(1 rails\), not EFA: KV transfers between the nodes would bypass EFA \(FI_PROVIDER= LD_LIBRARY_PATH=\)$/);
    assert.deepEqual(r.json('nixl.json'), { backend: 'LIBFABRIC', provider: 'tcp', efa: false });
  });

  test('fails when the LIBFABRIC plugin is missing', () => {
    const r = probe('LIBFABRIC', { ...WORKER_ENV, STUB_NIXL_PLUGINS: 'UCX' });
    assert.equal(r.code, 1);
    assert.match(lastLine(r.out), /^NIXL backend LIBFABRIC not created \(plugins found: UCX\)$/);
  });

  test('passes UCX on srd, the EFA transport, and fails it on tcp', () => {
    const srd = probe('UCX', WORKER_ENV);
    assert.equal(srd.code, 0, srd.out);
    assert.deepEqual(srd.json('nixl.json'), { backend: 'UCX', provider: 'ucx:srd', efa: true, scope: 'UCX_TLS=^sm,self,cuda_ipc: the transports UCX would use between two hosts' });
    const tcp = probe('UCX', { ...WORKER_ENV, STUB_UCX_TL: 'tcp' });
    assert.equal(tcp.code, 1);
    assert.match(lastLine(tcp.out), /^NIXL UCX chose ucx:tcp \(transports tcp\), not EFA/);
  });

  test('on a machine without EFA (a rehearsal), records the fabric it found instead of failing, only when told to', () => {
    const r = probe('UCX', { ...WORKER_ENV, STUB_UCX_TL: 'tcp' }, ['--no-require-efa']);
    assert.equal(r.code, 0, r.out);
    assert.match(lastLine(r.out), /^NIXL UCX chose ucx:tcp \(transports tcp\): not EFA, recorded \(no EFA is required here;/);
    assert.equal(r.json('nixl.json').efa, false);
  });
});

describe('download_model.py', () => {
  test('downloads the weights vLLM reads and neither original/ nor metal/ (a third each of the repository)', () => {
    const r = runPython('download_model.py', ['openai/gpt-oss-120b'], {
      HF_HOME: join(mkdtempSync(join(tmpdir(), 'p5-hf-')), 'hf'), STUB_MODEL_SHA: '8b49dbe3a1f7c2d6e0954c1b2a3f4d5e6f708192',
    });
    assert.equal(r.code, 0, r.out);
    const download = r.json('hf-download.json');
    assert.ok(download.files.includes('model-00000-of-00014.safetensors'));
    assert.deepEqual(download.files.filter((f: string) => /^(original|metal)\//.test(f)), []);
    assert.ok(download.bytes < 70e9, `${download.bytes} bytes`);
  });
});

describe('read_cluster.py', () => {
  test('counts alive nodes, their GPUs and this node\'s GPUs', () => {
    const r = runPython('read_cluster.py', ['10.0.0.10:6379', '10.0.0.21'], { STUB_IP: '10.0.0.21', STUB_CLUSTER: 'nodes=3 gpus=16 mine=8' });
    assert.equal(r.code, 0, r.out);
    assert.equal(r.out.trim(), 'nodes=3 gpus=16 mine=8');
  });
});

describe('the bootstrap asset', () => {
  test('holds exactly the node-side Python files and the later steps: no caches or lint config that would change its hash', () => {
    // Staged file by file: caches beside the sources (a local test run, ruff) cannot get in. The stack around the
    // asset is empty: CloudFormation validation would only warn that it is (and load its checker, seconds of CPU).
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'p5-pyasset-out-')), builtinCloudFormationValidation: false });
    const asset = new s3_assets.Asset(new Stack(app, 'T'), 'Python', { path: stageBootstrapAsset() });
    const out = app.synth().directory;
    assert.deepEqual(readdirSync(join(out, `asset.${asset.assetHash}`)).sort(), [...BOOTSTRAP_ASSET_FILES].sort());
    assert.ok(BOOTSTRAP_ASSET_FILES.includes('asset-steps.sh'));
  });

  test('stages the same content every time: the asset hash, and with it the user data, does not change', () => {
    const hash = () => new s3_assets.Asset(new Stack(new App(), 'T'), 'A', { path: stageBootstrapAsset() }).assetHash;
    assert.equal(hash(), hash());
  });
});
