/**
 * The rehearsal driver (lib/rehearsal/assets/rehearse.sh) end to end without a GPU: the prepared folder as `npm run
 * rehearse -- prepare` writes it, run by bash with the machine's tools replaced by stubs first on PATH (nvidia-smi,
 * uv, ray, serve, vllm, curl, prometheus). The venv's python is the real Python running the real node checks and
 * helpers against the stand-in packages of test/bootstrap/fakes; run_all.sh and run_bm.sh are the real bundle's.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { SOFTWARE } from '../../lib/catalog/software';
import { REHEARSAL_WORKLOADS, RehearsalSettings, renderRehearsal } from '../../lib/rehearsal';
import { writeServeBundle } from '../../lib/serve';
import { makeFakePython, REAL_PYTHON } from '../bootstrap/python-env';
import { writeRayFixtures } from '../serve/ray-fixtures';
import { runToEnd } from '../helpers/run-to-end';

type Json = any;

let fixtures: string;

/** The machine's tools, each logging its call to $STUB_LOG. */
const STUBS: Record<string, string> = {
  'nvidia-smi': `for i in $(seq 1 "\${STUB_GPUS:-1}"); do echo "\${STUB_GPU_NAME:-NVIDIA H200}, 143771, 580.159.04, 9.0"; done`,
  // venv: makes the venv whose python is the fake one; pip install: records (STUB_INSTALL_RC fails the vllm install).
  uv: `
case $1 in
  venv) for last; do :; done; mkdir -p "$last/bin"; cp "$STUB_DIR/venv-python" "$last/bin/python"; cp "$STUB_DIR/venv-ray" "$last/bin/ray" ;;
  pip) case " $* " in *" vllm=="*) exit "\${STUB_INSTALL_RC:-0}" ;; esac ;;
esac`,
  curl: `
case "$*" in
  */-/ready*) exit 0 ;;
  */v1/models*) echo '{"data": [{"id": "rehearsal"}]}' ;;
  */v1/chat/completions*) echo '{"choices": [{"message": {"content": "Paris."}}]}' ;;
esac`,
  serve: `
case "$1" in
  status)
    if [ "$2" = --name ]; then
      if [ "$(cat "$STUB_DIR/deploys")" = "\${STUB_DEPLOY_FAIL_AT:-0}" ]; then echo "status: DEPLOY_FAILED"; else echo "status: RUNNING"; fi
    else cat "$STUB_FIXTURES/serve_status_empty.yaml"; fi ;;
  deploy) n=$(cat "$STUB_DIR/deploys" 2>/dev/null || echo 0); echo $((n + 1)) > "$STUB_DIR/deploys" ;;
esac`,
  vllm: `
dir=""; name=""
while [ $# -gt 0 ]; do case "$1" in --result-dir) dir="$2"; shift 2;; --result-filename) name="$2"; shift 2;; *) shift;; esac; done
mkdir -p "$dir"; echo '{"completed": 40, "request_throughput": 1, "output_throughput": 1, "mean_ttft_ms": 1, "mean_tpot_ms": 1}' > "$dir/$name"`,
  prometheus: `[ "$1" = --version ] && { echo "prometheus, version 2.45.3+ds (branch: debian/sid)"; exit 0; }; exec sleep 600`,
};

/** The venv's ray: start/stop/health-check succeed; status and list print Ray 2.58's own output (ray-fixtures.ts). */
const VENV_RAY = `
case "$1" in
  list) if [ "$2" = actors ]; then cat "$STUB_FIXTURES/actors_pd_one_node.json"; elif [ "$2" = nodes ]; then cat "$STUB_FIXTURES/nodes_one_node.json"; else cat "$STUB_FIXTURES/pg_none.txt"; fi ;;
  status) echo "Usage:"; cat "$STUB_FIXTURES/ray_status_free.txt" ;;
  start) [ -z "\${STUB_RAY_START_FAILS:-}" ] || { echo "ray start: the GCS did not come up" >&2; exit 1; } ;;
esac`;

interface Rehearsal { readonly code: number; readonly out: string; readonly dir: string; readonly calls: string[] }

function settings(dir: string, over: Partial<RehearsalSettings> = {}): RehearsalSettings {
  return {
    dir, gpus: 1, gpuName: 'NVIDIA H200', model: join(dir, 'my-model'), servedModelName: 'rehearsal', tensorParallelSize: 1,
    maxModelLen: 4096, wheelhouse: join(dir, 'wheelhouse'), concurrencies: [8], workloads: REHEARSAL_WORKLOADS,
    requestsPerPrefix: 4, promptsPerConcurrency: 5, lmcacheCpuGbPerRank: 4, nixlBackend: 'UCX', prometheus: join(dir, 'bin', 'prometheus'),
    ...over,
  };
}

async function rehearse(over: Partial<RehearsalSettings> = {}, env: Record<string, string> = {}, args: string[] = []): Promise<Rehearsal> {
  const dir = mkdtempSync(join(tmpdir(), 'p5-rehearsal-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  mkdirSync(join(dir, 'my-model'));
  writeFileSync(join(dir, 'my-model', 'config.json'), '{}');
  mkdirSync(join(dir, 'wheelhouse'));
  writeServeBundle(dir, renderRehearsal(settings(dir, over), { tool: 'test', commit: 'abc123' }));
  const log = join(dir, 'calls.log');
  writeFileSync(log, '');
  const site = makeFakePython(dir);
  // The venv's python: LMCache's build leaves a wheel holding lmcache/cuda_ops; the rest is the real Python on the fakes.
  writeFileSync(join(dir, 'venv-python'), [
    '#!/bin/bash',
    // The node checks run under env -i (as Ray's workers): the log's path is written in.
    `echo "venv-python $*" >>${JSON.stringify(log)}`,
    'if [ "$1 $2 $3" = "-m pip wheel" ]; then',
    '  echo "build-env TORCH_CUDA_ARCH_LIST=$TORCH_CUDA_ARCH_LIST LMCACHE_CUDA_MAJOR=$LMCACHE_CUDA_MAJOR CUDA_HOME=$CUDA_HOME" >>"$STUB_LOG"',
    '  w=""; prev=""; for a in "$@"; do [ "$prev" = -w ] && w=$a; prev=$a; done; mkdir -p "$w"',
    `  ${JSON.stringify(REAL_PYTHON.executable)} -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1], "w").writestr("lmcache/cuda_ops.cpython-312-x86_64-linux-gnu.so", "x")' "$w/lmcache-${SOFTWARE.lmcache}-cp312-cp312-linux_x86_64.whl"`,
    '  exit "${STUB_BUILD_RC:-0}"',
    'fi',
    `if [ "$1" = -c ] && [[ $2 == *sys.version_info* ]]; then echo 3.12; exit 0; fi`,
    // A machine without EFA: the stand-in UCX finds tcp between hosts.
    `export PYTHONPATH=${JSON.stringify(site)} PYTHONDONTWRITEBYTECODE=1 STUB_UCX_TL=tcp`,
    `exec ${JSON.stringify(REAL_PYTHON.executable)} "$@"`,
    '',
  ].join('\n'));
  chmodSync(join(dir, 'venv-python'), 0o755);
  // Ray runs under env -i (as a node's ray.service): the log's path and the fixtures are written into it.
  writeFileSync(join(dir, 'venv-ray'), `#!/bin/bash\necho "ray $*" >>${JSON.stringify(log)}\nSTUB_FIXTURES=${JSON.stringify(fixtures)}\n${VENV_RAY}\n`);
  chmodSync(join(dir, 'venv-ray'), 0o755);
  for (const [name, body] of Object.entries(STUBS)) {
    writeFileSync(join(bin, name), `#!/bin/bash\necho "${name} $*" >>"$STUB_LOG"\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  const run = await runToEnd('bash', [join(dir, 'rehearse.sh'), ...args], {
    env: {
      PATH: `${bin}:/usr/bin:/bin`, HOME: dir, STUB_LOG: log, STUB_DIR: dir, STUB_FIXTURES: fixtures, SYSTEM_PYTHON: REAL_PYTHON.executable,
      POLL_INTERVAL_S: '0.05', HEALTH_TIMEOUT_S: '5', PROMETHEUS_URL: 'http://127.0.0.1:9', EVIDENCE_SETTLE_S: '0', ...env,
    },
  }, 120_000);
  return { code: run.code ?? -1, out: `${run.stdout}${run.stderr}`, dir, calls: readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

const steps = (r: Rehearsal) => readFileSync(join(r.dir, 'state', 'steps.tsv'), 'utf8').trim().split('\n').map((l) => l.split('\t'));
const runDirOf = (r: Rehearsal) => {
  const runs = readdirSync(join(r.dir, 'results'));
  assert.equal(runs.length, 1, runs.join(', '));
  return join(r.dir, 'results', runs[0]);
};

// Each rehearsal mostly waits on its children: several at once keep both cores of a small machine busy.
describe('rehearse.sh (the GPU rehearsal, run here against stubs)', { concurrency: 4 }, () => {
  before(() => {
    fixtures = writeRayFixtures('rehearsal-pd-nixl');
  });

  it('installs with the node\'s own code from the wheelhouse, checks the node, and runs every configuration and workload', async () => {
    const r = await rehearse();
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(steps(r).map(([name, status]) => `${name} ${status}`), [
      'machine ok', 'venv ok', 'install ok', 'model ok', 'ray-env ok', 'verify ok', 'nixl ok', 'ray ok', 'facts ok', 'prometheus ok', 'benchmarks ok',
    ]);
    // stack-install.sh's order, offline: torch with LMCache's build requirements, then the rest beside the build, then the wheel.
    const installs = r.calls.filter((c) => c.startsWith('uv pip install'));
    assert.equal(installs.length, 3, installs.join('\n'));
    for (const call of installs) assert.match(call, new RegExp(`--offline --no-index --find-links ${r.dir}/wheelhouse`));
    assert.ok(installs[0].includes(`torch==${SOFTWARE.torch}`) && installs[0].includes('grpcio-tools==1.78.0'), installs[0]);
    assert.ok(installs[1].includes(`vllm==${SOFTWARE.vllm}`), installs[1]);
    assert.match(installs[2], /lmcache-0\.5\.6-cp312-cp312-linux_x86_64\.whl$/);
    assert.match(r.calls.find((c) => c.startsWith('venv-python -m pip wheel')) ?? '', new RegExp(`--no-index --find-links ${r.dir}/wheelhouse --no-build-isolation --no-deps --no-binary lmcache`));
    assert.match(r.calls.find((c) => c.startsWith('build-env')) ?? '', /^build-env TORCH_CUDA_ARCH_LIST=9\.0 LMCACHE_CUDA_MAJOR=13 /);
    const build = JSON.parse(readFileSync(join(r.dir, 'state', 'lmcache-build.json'), 'utf8'));
    assert.deepEqual(build.sharedObjects, ['lmcache/cuda_ops.cpython-312-x86_64-linux-gnu.so']);
    // Ray as on a node, without systemd: one GPU, the metrics port Prometheus scrapes.
    assert.match(r.calls.find((c) => c.startsWith('ray start')) ?? '', /--head --node-ip-address=127\.0\.0\.1 --port=6379 --num-gpus=1 --metrics-export-port=8080/);
    // The node facts: no EFA, and the fabric NIXL found, recorded rather than failed.
    const facts = JSON.parse(readFileSync(join(r.dir, 'state', 'facts', 'gpu-0.json'), 'utf8'));
    assert.equal(facts.efaDevices, 0);
    // The address Ray gives the node, which the evidence maps replicas to nodes with (not the one ray start was told).
    assert.equal(facts.privateIp, '10.0.1.12');
    assert.equal(facts.nixl.backend, 'UCX');
    assert.equal(facts.nixl.efa, false);
    assert.deepEqual(facts.bootstrap, { venv: 'built', lmcacheWheel: 'built', weights: 'local', modelRevision: 'unknown' });
    // Every configuration, both workloads, each result with its sidecar saying it is a rehearsal.
    const run = runDirOf(r);
    const folders = readdirSync(run).filter((f) => f.startsWith('rehearsal_'));
    assert.equal(folders.length, 10, folders.join('\n'));
    for (const folder of folders) {
      const meta = JSON.parse(readFileSync(join(run, folder, 'conc8.meta.json'), 'utf8'));
      assert.equal(meta.rehearsal.kind, 'functional rehearsal', folder);
      assert.equal(meta.rehearsal.pdSharesGpus, true);
      assert.equal(meta.layout.profile, 'rehearsal');
      assert.equal(meta.nodeFacts.source, `local folder ${r.dir}/state/facts`);
    }
    const summary = JSON.parse(readFileSync(join(run, 'rehearsal.json'), 'utf8'));
    assert.equal(summary.deploys.length, 10);
    assert.ok(summary.deploys.every((d: Json) => typeof d.healthyAfterSeconds === 'number'), JSON.stringify(summary.deploys));
    assert.deepEqual(summary.failures, []);
    assert.equal(summary.results.length, 10);
    assert.ok(existsSync(join(run, 'rehearsal.log')));
    assert.match(r.out, /compare the configurations with: npm run report -- /);
  });

  it('goes on past a configuration that fails, and says which failed, in the summary and the exit code', async () => {
    // Prepared for an H200, run on an H100: the facts every result carries name the GPU the machine has.
    const r = await rehearse({}, { STUB_DEPLOY_FAIL_AT: '5', STUB_GPU_NAME: 'NVIDIA H100 80GB HBM3' }, ['--workload', 'random']);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /prepared for NVIDIA H200, this machine has NVIDIA H100 80GB HBM3: the results name NVIDIA H100 80GB HBM3/);
    const facts = JSON.parse(readFileSync(join(r.dir, 'state', 'facts', 'gpu-0.json'), 'utf8'));
    assert.equal(facts.gpuName, 'NVIDIA H100 80GB HBM3');
    assert.equal(facts.instanceType, 'rehearsal: 1 x NVIDIA H100 80GB HBM3');
    const last = steps(r).at(-1)!;
    assert.deepEqual(last.slice(0, 2), ['benchmarks', 'failed']);
    assert.match(last[3], /run_all\.sh exited 1: .*"failed": \[\s*"pd_prefill_lmcache"/s);
    const summary = JSON.parse(readFileSync(join(runDirOf(r), 'rehearsal.json'), 'utf8'));
    assert.deepEqual(summary.failures, ['pd_prefill_lmcache']);
    assert.equal(summary.results.length, 4);
  });

  it('stops at once, naming both counts, on a machine with other GPUs than it was prepared for', async () => {
    const r = await rehearse({ gpus: 2 }, { STUB_GPUS: '1' });
    assert.equal(r.code, 1);
    assert.match(r.out, /FAILED at step machine: prepared for 2 GPU\(s\), this machine has 1: prepare again with --gpus 1/);
    assert.ok(!r.calls.some((c) => c.startsWith('uv ')), 'nothing installed');
  });

  it('fails the install step with the installer\'s own last words', async () => {
    const r = await rehearse({}, { STUB_INSTALL_RC: '3' });
    assert.equal(r.code, 1);
    assert.match(r.out, /FAILED at step install: the stack install failed \(exit 3\)/);
  });
});
