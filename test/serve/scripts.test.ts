import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { before, describe, it } from 'node:test';
import { validateEvidence } from '../../lib/report/evidence';
import { fakePrometheus } from './fake-prometheus';
import { RayFixtures, rayFixtures, writeRayFixtures } from './ray-fixtures';
import { Json, writeBundle } from './helpers';
import { runToEnd } from '../helpers/run-to-end';

const REPO = resolve(__dirname, '..', '..');
/** The node runs the scripts' Python helpers with the venv's Python; the tests use the venv with the real Ray 2.58. */
const PYTHON = join(REPO, '.test-venv', 'bin', 'python');

/**
 * Stand-ins for the cluster's tools. Each records its arguments in $STUB_LOG. What `ray` and `serve` print comes from
 * Ray 2.58's own formatting code (ray_fixtures.py), so the scripts parse real output. Steered by env vars:
 * STUB_STATUS (application status, default RUNNING after STUB_DEPLOYING_POLLS polls), STUB_DEPLOY_FAIL_AT (the n-th
 * deploy ends DEPLOY_FAILED), STUB_ANSWER (chat answer), STUB_PG_POLLS (after a shutdown, `ray list
 * placement-groups` still shows a CREATED Serve placement group holding 4 GPUs for that many calls, -1 = forever,
 * while `ray status` shows 0 GPUs used), STUB_APP_POLLS (likewise for `serve status` listing the app as DELETING),
 * STUB_LIST_FAILS (`ray list` exits 1), STUB_NODE_FACTS (folder served as s3://<bucket>/cluster/nodes/),
 * STUB_UPLOAD_POLLS (a deploy-cache upload's state reads running until that read), STUB_MID_FILE (the evidence test:
 * the point takes 0.1 s, and its middle's time goes to that file), STUB_VLLM_HANG (the point hangs that many seconds).
 */
const STUBS: Record<string, string> = {
  serve: `
count() { n=$(cat "$STUB_DIR/$1" 2>/dev/null || echo 0); echo $((n + 1)) > "$STUB_DIR/$1"; echo "$n"; }
left() { n=$(cat "$STUB_DIR/$1" 2>/dev/null || echo 0); if [ "$n" = -1 ]; then return 0; fi
  if [ "$n" -gt 0 ]; then echo $((n - 1)) > "$STUB_DIR/$1"; return 0; fi; return 1; }
case "$1" in
  status)
    if [ "$2" = --name ]; then
      n=$(count polls)
      if [ "$n" -lt "\${STUB_DEPLOYING_POLLS:-0}" ]; then echo "status: DEPLOYING"
      elif [ "$(cat "$STUB_DIR/deploys")" = "\${STUB_DEPLOY_FAIL_AT:-0}" ]; then echo "status: DEPLOY_FAILED"
      else echo "status: \${STUB_STATUS:-RUNNING}"; fi
    elif left apps; then cat "$STUB_FIXTURES/serve_status_app.yaml"
    else cat "$STUB_FIXTURES/serve_status_empty.yaml"; fi ;;
  deploy) echo 0 > "$STUB_DIR/polls"; count deploys >/dev/null ;;
  shutdown) echo "\${STUB_PG_POLLS:-0}" > "$STUB_DIR/pgs"; echo "\${STUB_APP_POLLS:-0}" > "$STUB_DIR/apps" ;;
esac`,
  vllm: `
[ -z "\${STUB_VLLM_HANG:-}" ] || exec /usr/bin/sleep "$STUB_VLLM_HANG"
dir=""; name=""
while [ $# -gt 0 ]; do case "$1" in --result-dir) dir="$2"; shift 2;; --result-filename) name="$2"; shift 2;; *) shift;; esac; done
# Halfway through the point, the time the fake Prometheus's "MID" samples take (counters step inside the window).
if [ -n "\${STUB_MID_FILE:-}" ]; then /usr/bin/sleep 0.05; /usr/bin/date +%s.%N > "$STUB_MID_FILE"; /usr/bin/sleep 0.05; fi
mkdir -p "$dir"; echo '{"completed": 1, "request_throughput": 1, "output_throughput": 1, "mean_ttft_ms": 1, "mean_tpot_ms": 1}' > "$dir/$name"`,
  ray: `
held() { n=$(cat "$STUB_DIR/pgs" 2>/dev/null || echo 0); [ "$n" = -1 ] || [ "$n" -gt 0 ]; }
case "$1" in
  status)
    echo "Active: 3 nodes"; echo "Usage:"
    if held; then cat "$STUB_FIXTURES/ray_status_pg.txt"; else cat "$STUB_FIXTURES/ray_status_free.txt"; fi ;;
  list)
    if [ -n "\${STUB_LIST_FAILS:-}" ]; then echo "ray list: the State API did not answer" >&2; exit 1; fi
    if [ "$2" = actors ]; then cat "$STUB_FIXTURES/actors_pd.json"; exit 0; fi
    if [ "$2" = nodes ]; then cat "$STUB_FIXTURES/nodes.json"; exit 0; fi
    if held; then
      n=$(cat "$STUB_DIR/pgs"); if [ "$n" != -1 ]; then echo $((n - 1)) > "$STUB_DIR/pgs"; fi
      cat "$STUB_FIXTURES/pg_created.json"
    else cat "$STUB_FIXTURES/pg_none.txt"; fi ;;
esac`,
  // s3 cp --recursive SRC DEST ...: downloads serve STUB_NODE_FACTS, uploads land in $STUB_DIR/s3/<bucket>/<key>.
  aws: `
# A deploy-cache upload's state file: running until the STUB_UPLOAD_POLLS-th read, then done.
if [ "$1 $2" = "s3 cp" ] && [[ $3 == s3://*.cache-upload.json ]]; then
  n=$(( $(cat "$STUB_DIR/upload-polls" 2>/dev/null || echo 0) + 1 )); echo "$n" > "$STUB_DIR/upload-polls"
  if [ "$n" -lt "\${STUB_UPLOAD_POLLS:-1}" ]; then echo '{"state": "running"}' > "$4"; else echo '{"state": "done"}' > "$4"; fi
  exit 0
fi
[ "$1 $2 $3" = "s3 cp --recursive" ] || exit 0
src="$4"; dest="$5"
case "$src" in
  s3://*) if [ -n "\${STUB_NODE_FACTS:-}" ]; then mkdir -p "$dest"; cp -r "$STUB_NODE_FACTS/." "$dest/"; fi ;;
  *) target="$STUB_DIR/s3/\${dest#s3://}"; mkdir -p "$target"; cp -r "$src/." "$target/" ;;
esac`,
  curl: `
case "$*" in
  */v1/models*) echo '{"data": [{"id": "gptoss"}]}';;
  */v1/chat/completions*) echo "{\\"choices\\": [{\\"message\\": {\\"content\\": \\"\${STUB_ANSWER:-Paris.}\\"}}]}";;
esac`,
};

/**
 * A fake clock, for the runs that wait: `sleep` moves it on at once, `date +%s` (what the wait loops time themselves
 * with) reads it; any other `date` is the real one. A timeout of seconds then costs polls, not seconds.
 */
const CLOCK: Record<string, string> = {
  sleep: `read -r ms < "$STUB_DIR/clock"; s=$1; whole=\${s%%.*}; frac=\${s#"$whole"}; frac=\${frac#.}000
echo $(( ms + \${whole:-0} * 1000 + 10#\${frac:0:3} )) > "$STUB_DIR/clock"`,
  date: `if [ "$*" = +%s ]; then read -r ms < "$STUB_DIR/clock"; echo $(( ms / 1000 )); else exec /usr/bin/date "$@"; fi`,
};

interface RunResult {
  readonly code: number; readonly stdout: string; readonly stderr: string; readonly calls: string[]; readonly work: string;
}

let bundle: string;
let fixtures: string;
/** The default profile's bundle (full-cluster, five configurations, a concurrency sweep); `bundle` is the reference one. */
let fullBundle: string;

/** A node facts file with the shape each GPU node's bootstrap uploads. */
function nodeFacts(index: number, overrides: Json = {}): Json {
  return {
    role: 'gpu', index, instanceId: `i-0${index}abc`, privateIp: `10.0.1.${12 + index}`, instanceType: 'p5.48xlarge',
    gpus: 8, gpuName: 'NVIDIA H100 80GB HBM3', efaDevices: 32, nixl: { backend: 'LIBFABRIC', provider: 'efa' },
    lmcache: { compiledModules: ['lmcache.cuda_ops'] },
    versions: { ray: '2.58.0', vllm: '0.26.0', nixl: '1.3.1', lmcache: '0.5.6', torch: '2.11.0+cu130' },
    ...overrides,
  };
}

function factsDir(nodes: Json[] = [nodeFacts(0), nodeFacts(1)]): string {
  const dir = mkdtempSync(join(tmpdir(), 'node-facts-'));
  for (const doc of nodes) writeFileSync(join(dir, `gpu-${doc.index}.json`), JSON.stringify(doc));
  return dir;
}

/** Runs a script of the bundle `from` with the stubs first on PATH; `clock: true` puts it on the fake clock. */
async function run(script: string, args: readonly string[], env: Record<string, string> = {}, from: string = bundle,
  { clock = false } = {}): Promise<RunResult> {
  const work = mkdtempSync(join(tmpdir(), 'serve-run-'));
  const bin = join(work, 'bin');
  mkdirSync(bin);
  for (const [name, body] of Object.entries(STUBS)) {
    const path = join(bin, name);
    writeFileSync(path, `#!/bin/bash\necho "${name} $*" >> "$STUB_LOG"\n${body}\n`);
    chmodSync(path, 0o755);
  }
  if (clock) {
    writeFileSync(join(work, 'clock'), `${Date.now()}\n`);
    for (const [name, body] of Object.entries(CLOCK)) {
      writeFileSync(join(bin, name), `#!/bin/bash\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    }
  }
  // A wrapper, not a link: the venv is found from the interpreter's own path (a link runs the bare base Python).
  writeFileSync(join(bin, 'python3'), `#!/bin/sh\nexec ${PYTHON} "$@"\n`);
  chmodSync(join(bin, 'python3'), 0o755);
  const log = join(work, 'calls.log');
  writeFileSync(log, '');
  const run = await runToEnd(join(from, script), args, {
    cwd: work,
    env: {
      PATH: `${bin}:/usr/bin:/bin`, HOME: work, STUB_LOG: log, STUB_DIR: work, STUB_FIXTURES: fixtures,
      CLUSTER_ENV: join(work, 'cluster.env'), HEALTH_TIMEOUT_S: '5', SHUTDOWN_TIMEOUT_S: '10', POLL_INTERVAL_S: '0.1',
      // Nothing listens on the discard port: the evidence is recorded as missing unless a test serves a fake Prometheus.
      PROMETHEUS_URL: 'http://127.0.0.1:9', EVIDENCE_SETTLE_S: '0', ...env,
    },
  }, 60_000);
  return { code: run.code ?? -1, stdout: run.stdout, stderr: run.stderr, calls: readFileSync(log, 'utf8').split('\n').filter(Boolean), work };
}

/** A cluster.env naming a bucket, as the head's bootstrap writes it, and the node facts that bucket holds. */
function withBucket(env: Record<string, string> = {}, facts: string = factsDir()): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'cluster-env-'));
  writeFileSync(join(dir, 'cluster.env'), 'BUCKET=my-bucket\nREGION=us-east-2\n');
  return { CLUSTER_ENV: join(dir, 'cluster.env'), STUB_NODE_FACTS: facts, ...env };
}

const named = (calls: readonly string[], tool: string, sub?: string): string[] =>
  calls.filter((c) => c.startsWith(`${tool} `) && (sub === undefined || c.split(' ')[1] === sub));

/** The value after `flag` in a recorded command line. */
const arg = (call: string, flag: string): string => {
  const words = call.split(' ');
  const i = words.indexOf(flag);
  assert.ok(i >= 0, `${flag} missing in: ${call}`);
  return words[i + 1];
};

/** The one run folder run_all.sh made under `results`. */
function runDir(results: string): string {
  const runs = readdirSync(results);
  assert.equal(runs.length, 1, runs.join(', '));
  assert.match(runs[0], /^\d{8}T\d{6}Z$/);
  return join(results, runs[0]);
}

const readJson = (path: string): Json => JSON.parse(readFileSync(path, 'utf8'));

/** Every sidecar under `dir`, keyed `<folder>/<file>`. */
function sidecars(dir: string): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const folder of readdirSync(dir).filter((f) => f.startsWith('gptoss_'))) {
    for (const f of readdirSync(join(dir, folder)).filter((n) => n.endsWith('.meta.json'))) out[`${folder}/${f}`] = readJson(join(dir, folder, f));
  }
  return out;
}

/** The scripts mostly wait on their children: several runs at once keep both cores of a small machine busy. */
const CONCURRENCY = 4;

const results = (): string => join(mkdtempSync(join(tmpdir(), 'serve-results-')), 'r');

describe('serve bundle scripts', { concurrency: CONCURRENCY }, () => {
  before(() => {
    // Most tests reproduce the reference example's run: its four configurations at concurrency 64.
    bundle = writeBundle({ profile: 'reference' });
    fullBundle = writeBundle();
    fixtures = writeRayFixtures('gptoss-collocated-baseline');
  });

  it('read Ray\'s output as Ray 2.58 prints it: ray-fixtures.json is what ray_fixtures.py writes today, for every application', async () => {
    const stored = rayFixtures();
    const { stdout } = await promisify(execFile)(PYTHON, [join(__dirname, 'ray_fixtures.py'), '--json', ...Object.keys(stored)], { maxBuffer: 16 << 20 });
    // A .json file compares as JSON: Ray's protobuf maps come out in no fixed key order.
    const parsed = (all: RayFixtures) => Object.fromEntries(Object.entries(all).map(([app, files]) => [app,
      Object.fromEntries(Object.entries(files).map(([name, text]) => [name, name.endsWith('.json') ? JSON.parse(text) : text]))]));
    assert.deepEqual(parsed(JSON.parse(stdout) as RayFixtures), parsed(stored), 'regenerate test/serve/ray-fixtures.json (see ray-fixtures.ts)');
    assert.deepEqual(Object.keys(stored).sort(), ['gptoss-collocated-baseline', 'gptoss-pd-nixl', 'rehearsal-pd-nixl']);
  });

  it('are shellcheck-clean', async () => {
    const scripts = readdirSync(bundle).filter((f) => f.endsWith('.sh'));
    assert.deepEqual(scripts.sort(), ['run_all.sh', 'run_bm.sh']);
    await promisify(execFile)('shellcheck', scripts.map((s) => join(bundle, s)));
  });

  it('reproduce the trap with Ray\'s own output: 0 GPUs used in ray status while a placement group holds 4', () => {
    assert.match(readFileSync(join(fixtures, 'ray_status_pg.txt'), 'utf8'), /^ 0\.0\/16\.0 GPU \(0\.0 used of 4\.0 reserved in placement groups\)$/m);
    const [group] = readJson(join(fixtures, 'pg_created.json'));
    assert.equal(group.state, 'CREATED');
    assert.match(group.name, /^SERVE_REPLICA::gptoss-collocated-baseline#/);
    assert.equal(readFileSync(join(fixtures, 'pg_none.txt'), 'utf8').trim(), 'No resource in the cluster');
  });

  it('cluster_state.py reads what blocks the next deploy from Ray\'s output, and refuses output it does not know', () => {
    const parse = (command: string, file: string): { code: number; out: string; err: string } => {
      const r = spawnSync(PYTHON, [join(bundle, 'cluster_state.py'), command], { input: readFileSync(join(fixtures, file)), encoding: 'utf8' });
      return { code: r.status ?? -1, out: r.stdout.trim(), err: r.stderr.trim() };
    };
    assert.deepEqual(parse('live-placement-groups', 'pg_created.json'), {
      code: 0, err: '',
      out: '1 placement group(s) holding 4 GPU(s): SERVE_REPLICA::gptoss-collocated-baseline#LLMServer:gptoss#x1y2z3 (CREATED, 4 GPU)',
    });
    assert.deepEqual(parse('live-placement-groups', 'pg_none.txt'), { code: 0, out: '', err: '' });
    assert.deepEqual(parse('live-placement-groups', 'pg_cpu_only.json'), { code: 0, out: '', err: '' }, 'a CPU-only group of another job does not block');
    assert.deepEqual(parse('serve-apps', 'serve_status_app.yaml'), { code: 0, out: 'gptoss-collocated-baseline (DELETING)', err: '' });
    assert.deepEqual(parse('serve-apps', 'serve_status_empty.yaml'), { code: 0, out: '', err: '' });
    const bad = parse('serve-apps', 'pg_none.txt');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /^cluster_state: serve status printed no 'applications' key/);
    assert.equal(parse('live-placement-groups', 'serve_status_app.yaml').code, 2);
  });

  describe('run_bm.sh', { concurrency: CONCURRENCY }, () => {
    // Started by hand with nothing but an experiment name (and Prometheus down): one run that three tests read.
    let byHandRun: Promise<RunResult> | undefined;
    const byHand = (): Promise<RunResult> => (byHandRun ??= run('run_bm.sh', ['-e', 'byhand']));

    it('records each point\'s metric evidence from Prometheus in the sidecar, and asks vllm bench serve for p50 and p99', async () => {
      const mid = join(mkdtempSync(join(tmpdir(), 'mid-')), 'mid');
      // Counters before the point (5 s before its middle) and after a step halfway through it (MID, from the stub vllm).
      const counter = (name: string, node: string, from: number, to: number, labels: Record<string, string> = {}) =>
        ({ metric: { __name__: name, node, ...labels }, samples: [['MID-5', from], ['MID', to]] as [number | string, number][] });
      const prom = await fakePrometheus([
        counter('ray_vllm_prefix_cache_queries_total', 'gpu-0', 0, 8000),
        counter('ray_vllm_prefix_cache_hits_total', 'gpu-0', 0, 2000),
        counter('ray_vllm_nixl_bytes_transferred_sum', 'gpu-1', 100, 5e9 + 100),
        counter('ray_vllm_nixl_xfer_time_seconds_sum', 'gpu-1', 0, 0.5),
        counter('ray_vllm_nixl_xfer_time_seconds_count', 'gpu-1', 0, 100),
        counter('p5ray_efa_rx_bytes_total', 'gpu-1', 7, 6e9 + 7, { device: 'rdmap0s0', port: '1' }),
        counter('DCGM_FI_DEV_GPU_UTIL', 'gpu-0', 0, 90, { gpu: '0' }),
      ], { FAKE_PROM_MID_FILE: mid });
      try {
        const r = await run('run_bm.sh', ['-e', 'pd-nixl', '--serve-config', 'pd_nixl', '--nixl', '--node-facts', factsDir(),
          '--meta-section', `layout=${join(bundle, 'pd_nixl.layout.json')}`], { PROMETHEUS_URL: prom.url, STUB_MID_FILE: mid });
        assert.equal(r.code, 0, r.stderr);
        const [call] = named(r.calls, 'vllm', 'bench');
        assert.ok(call.includes('--percentile-metrics ttft,tpot,itl,e2el --metric-percentiles 50,99'), call);
        const dir = join(r.work, 'bm_results', 'gptoss_itl8000_otl1000_mixed_pd-nixl');
        assert.deepEqual(readdirSync(dir).sort(), ['conc64.json', 'conc64.meta.json'], 'the evidence file is merged, not left beside');
        const meta = readJson(join(dir, 'conc64.meta.json'));
        const e = validateEvidence(meta.evidence, 'conc64.meta.json');
        assert.equal(e.prometheus.url, prom.url);
        assert.deepEqual(e.roles.nodes, { 'gpu-0': 'prefill', 'gpu-1': 'decode' });
        assert.equal(meta.evidence.fields.prefixCacheHitRate.value, 0.25);
        assert.equal(meta.evidence.fields.kvTransferBytes.value, 5e9);
        assert.equal(meta.evidence.fields.kvTransferMeanMs.value, 5);
        assert.equal(meta.evidence.fields.efaBytes.value['gpu-1'].rx, 6e9);
        assert.equal(meta.evidence.fields.gpuUtilization.byRole.prefill, 90);
        assert.ok(e.window.seconds > 0 && e.window.seconds < 30, String(e.window.seconds));
        assert.equal(meta.layout.configuration, 'pd_nixl');
        assert.match(r.stdout, /evidence: waiting 0s for the last samples, then querying http:\/\/127\.0\.0\.1:\d+/);
      } finally {
        prom.stop();
      }
    });

    it('Prometheus down: still writes conc<N>.json and its sidecar, whose evidence says why it is missing, and warns', async () => {
      const r = await byHand();
      assert.equal(r.code, 0, r.stderr);
      const dir = join(r.work, 'bm_results', 'gptoss_itl8000_otl1000_mixed_byhand');
      assert.ok(existsSync(join(dir, 'conc64.json')));
      const meta = readJson(join(dir, 'conc64.meta.json'));
      assert.equal(meta.evidence.prometheus.reachable, false);
      assert.match(meta.evidence.fields.kvTransferBytes.missing, /^Prometheus not reachable: http:\/\/127\.0\.0\.1:9 unreachable/);
      assert.match(r.stderr, /^warning: evidence: Prometheus http:\/\/127\.0\.0\.1:9 unreachable .*: this point has no metric evidence$/m);
    });

    it('stops a point that has not finished within BENCH_TIMEOUT_S and says so, instead of holding the GPUs', async () => {
      const r = await run('run_bm.sh', ['-e', 'stalled', '--no-evidence'], { STUB_VLLM_HANG: '20', BENCH_TIMEOUT_S: '1' });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /run_bm: vllm bench serve \(concurrency 64\) did not finish within 1s: stopped \(raise BENCH_TIMEOUT_S/);
      assert.ok(!existsSync(join(r.work, 'bm_results', 'gptoss_itl8000_otl1000_mixed_stalled', 'conc64.meta.json')));
    });

    it('--no-evidence queries nothing and leaves the sidecar without an evidence section', async () => {
      const r = await run('run_bm.sh', ['-e', 'none', '--no-evidence']);
      assert.equal(r.code, 0, r.stderr);
      const meta = readJson(join(r.work, 'bm_results', 'gptoss_itl8000_otl1000_mixed_none', 'conc64.meta.json'));
      assert.equal(meta.evidence, undefined);
      assert.doesNotMatch(r.stdout, /evidence: waiting/);
    });

    it('runs the reference benchmark by default: 8000 in, 1000 out, concurrency 64, 320 prompts', async () => {
      const r = await byHand();
      assert.equal(r.code, 0, r.stderr);
      const [call] = named(r.calls, 'vllm', 'bench');
      for (const expected of ['--num-prompts 320', '--max-concurrency 64', '--prefix-repetition-prefix-len 0',
        '--prefix-repetition-suffix-len 8000', '--prefix-repetition-output-len 1000', '--ignore-eos',
        '--model openai/gpt-oss-120b', '--served-model-name gptoss', '--dataset-name prefix_repetition',
        '--metadata bench_seed=1000064 bench_cache_state=unknown']) {
        assert.ok(call.includes(expected), `${expected} missing in: ${call}`);
      }
      assert.ok(existsSync(join(r.work, 'bm_results', 'gptoss_itl8000_otl1000_mixed_byhand', 'conc64.json')));
      assert.match(r.stdout, /\[1\/1\] concurrency 64, 320 prompts, seed 1000064, caches unknown/);
    });

    it('gives every point of a sweep its own seed and records that later points run on warm caches', async () => {
      const r = await run('run_bm.sh', ['-e', 'sweep', '-c', '8,16,32', '--itl', '2000', '--otl', '100', '--seed', '7',
        '--cache-state', 'fresh-deploy']);
      assert.equal(r.code, 0, r.stderr);
      const calls = named(r.calls, 'vllm');
      assert.deepEqual(calls.map((c) => arg(c, '--num-prompts')), ['40', '80', '160']);
      // base 7 + 1,000,000 x 1 (random) + concurrency
      assert.deepEqual(calls.map((c) => arg(c, '--seed')), ['1000015', '1000023', '1000039']);
      const dir = join(r.work, 'bm_results', 'gptoss_itl2000_otl100_mixed_sweep');
      assert.deepEqual(readdirSync(dir).sort(),
        ['conc16.json', 'conc16.meta.json', 'conc32.json', 'conc32.meta.json', 'conc8.json', 'conc8.meta.json']);
      const meta = [8, 16, 32].map((c) => readJson(join(dir, `conc${c}.meta.json`)));
      assert.deepEqual(meta.map((m) => m.seed.value), [1000015, 1000023, 1000039]);
      assert.deepEqual(meta.map((m) => m.cache.state), ['fresh-deploy', 'warm-disjoint', 'warm-disjoint']);
      assert.deepEqual(meta.map((m) => m.cache.pointsBefore), [0, 1, 2]);
      assert.equal(meta[1].seed.rule, 'base 7 + 1000000 x 1 (workload random) + concurrency 16');
    });

    it('draws the prefix-reuse workload from another block of seeds, into its own folder', async () => {
      const r = await run('run_bm.sh', ['-e', 'pd-nixl', '--workload', 'prefix-reuse']);
      assert.equal(r.code, 0, r.stderr);
      const [call] = named(r.calls, 'vllm');
      for (const expected of ['--prefix-repetition-prefix-len 12000', '--prefix-repetition-num-prefixes 400', '--num-prompts 1600', '--seed 2000064']) {
        assert.ok(call.includes(expected), `${expected} missing in: ${call}`);
      }
      assert.ok(existsSync(join(r.work, 'bm_results', 'gptoss_itl12500_otl100_prefix-reuse_pd-nixl', 'conc64.json')));
    });

    for (const [args, message] of [
      [['-e', 'a_b'], /use letters, digits/],
      [['-c', '16,32,16'], /lists 16 twice/],
      [['--cache-state', 'cold'], /--cache-state cold: use fresh-deploy, warm-disjoint or unknown/],
      [['--seed', '4294967295'], /--seed 4294967295: use a whole number from 0 to 4291967295/],
      [['-c', '1000000'], /--concurrency 1000000: use whole numbers from 1 to 999999/],
      [['--node-facts', '/nonexistent'], /--node-facts \/nonexistent: no such folder/],
    ] as const) {
      it(`rejects ${args.join(' ')} before benchmarking`, async () => {
        const r = await run('run_bm.sh', args);
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, message);
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
        assert.deepEqual(named(r.calls, 'vllm'), []);
      });
    }

    it('writes a sidecar with seed, cache state, workload, serve config, transport and versions of every GPU node', async () => {
      const router = join(mkdtempSync(join(tmpdir(), 'section-')), 'router.json');
      writeFileSync(router, JSON.stringify({ policy: 'pow2' }));
      const r = await run('run_bm.sh', ['-e', 'pd-nixl', '--serve-config', 'pd_nixl', '--nixl', '--node-facts', factsDir(),
        '--node-facts-source', 's3://my-bucket/cluster/nodes/', '--cache-state', 'fresh-deploy', '--cache-policy', 'redeploy',
        '--run-id', '20261201T120000Z', '--deployment-id', '20261201T120000Z/pd_nixl/1', '--meta-section', `router=${router}`]);
      assert.equal(r.code, 0, r.stderr);
      const meta = readJson(join(r.work, 'bm_results', 'gptoss_itl8000_otl1000_mixed_pd-nixl', 'conc64.meta.json'));
      assert.equal(meta.schema, 1);
      assert.equal(meta.result, 'conc64.json');
      assert.deepEqual(meta.seed, { value: 1000064, base: 0, rule: 'base 0 + 1000000 x 1 (workload random) + concurrency 64' });
      assert.equal(meta.seed.value, Number(arg(named(r.calls, 'vllm')[0], '--seed')), 'the seed vllm got');
      assert.equal(meta.cache.state, 'fresh-deploy');
      assert.match(meta.cache.meaning, /deployed for this point/);
      assert.equal(meta.cache.policy, 'redeploy');
      assert.equal(meta.cache.deploymentId, '20261201T120000Z/pd_nixl/1');
      assert.deepEqual(meta.workload, {
        name: 'random', mode: 'mixed', dataset: 'prefix_repetition', prefixLen: 0, suffixLen: 8000, numPrefixes: 1,
        outputLen: 1000, numPrompts: 320, maxConcurrency: 64, requestRate: 1e9, ignoreEos: true,
      });
      assert.deepEqual(meta.serveConfig, { id: 'pd_nixl', experiment: 'pd-nixl' });
      assert.equal(meta.run.id, '20261201T120000Z');
      assert.deepEqual(meta.transport, {
        usesNixl: true, nixlBackend: 'LIBFABRIC', verified: true, problems: [], override: false,
        nodes: { 'gpu-0': { backend: 'LIBFABRIC', provider: 'efa' }, 'gpu-1': { backend: 'LIBFABRIC', provider: 'efa' } },
      });
      assert.deepEqual(meta.versions.pinned, { ray: '2.58.0', vllm: '0.26.0', nixl: '1.3.1', lmcache: '0.5.6' });
      assert.equal(meta.versions.nodes['gpu-1'].torch, '2.11.0+cu130');
      assert.deepEqual(meta.versions.mismatches, []);
      assert.equal(meta.nodeFacts.source, 's3://my-bucket/cluster/nodes/');
      assert.equal(meta.nodeFacts.nodes['gpu-0'].instanceId, 'i-00abc');
      assert.deepEqual(meta.router, { policy: 'pow2' });
      assert.match(readFileSync(join(r.work, 'bm_results', 'gptoss_itl8000_otl1000_mixed_pd-nixl', 'conc64.meta.json'), 'utf8'), /^\{\n {2}"schema": 1,/);
    });

    it('records a node that runs LIBFABRIC over TCP, missing facts and a version drift, and the override', async () => {
      const facts = factsDir([nodeFacts(0, { versions: { ...nodeFacts(0).versions, vllm: '0.25.1' } }),
        nodeFacts(1, { nixl: { backend: 'LIBFABRIC', provider: 'tcp' } })]);
      const r = await run('run_bm.sh', ['-e', 'x', '--nixl', '--node-facts', facts, '--gpu-nodes', '3', '--transport-override']);
      assert.equal(r.code, 0, r.stderr);
      const meta = readJson(join(r.work, 'bm_results', 'gptoss_itl8000_otl1000_mixed_x', 'conc64.meta.json'));
      assert.equal(meta.transport.verified, false);
      assert.equal(meta.transport.override, true);
      assert.equal(meta.transport.problems.length, 2, meta.transport.problems.join('\n'));
      assert.match(meta.transport.problems.join('\n'), /gpu-2: no node facts file .*gpu-2\.json/);
      assert.match(meta.transport.problems.join('\n'), /gpu-1: NIXL LIBFABRIC runs over provider 'tcp', not 'efa'/);
      assert.deepEqual(meta.versions.mismatches, ["gpu-0: vllm '0.25.1', pinned '0.26.0'"]);
      assert.equal(meta.nodeFacts.nodes['gpu-2'], null);
    });

    it('records an unknown cache state and no node facts when started by hand', async () => {
      const r = await byHand();
      assert.equal(r.code, 0, r.stderr);
      const meta = readJson(join(r.work, 'bm_results', 'gptoss_itl8000_otl1000_mixed_byhand', 'conc64.meta.json'));
      assert.equal(meta.cache.state, 'unknown');
      assert.equal(meta.transport.usesNixl, false);
      assert.equal(meta.transport.verified, null);
      assert.match(meta.nodeFacts.problems[0], /gpu-0: no node facts/);
    });

    it('refuses a --meta-section that would replace a section of its own', async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'section-')), 'x.json');
      writeFileSync(file, '{}');
      const r = await run('run_bm.sh', ['-e', 'x', '--meta-section', `seed=${file}`]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /--section seed: seed is written by bench_record.py itself/);
    });

    it('--smoke sends one chat request and checks the answer', async () => {
      const [ok, wrong] = await Promise.all([run('run_bm.sh', ['--smoke']), run('run_bm.sh', ['--smoke'], { STUB_ANSWER: 'Lyon.' })]);
      assert.equal(ok.code, 0, ok.stderr);
      const curls = named(ok.calls, 'curl');
      assert.equal(curls.length, 1);
      assert.match(curls[0], /\/v1\/chat\/completions/);
      assert.match(curls[0], /"model": "gptoss"/);
      assert.deepEqual(named(ok.calls, 'vllm'), []);
      assert.notEqual(wrong.code, 0);
      assert.match(wrong.stderr, /does not mention "paris"/);
    });
  });

  describe('run_all.sh', { concurrency: CONCURRENCY }, () => {
    it('deploys, waits, smoke-tests, benchmarks and shuts down each config in turn, then uploads results, sidecars and node facts', async () => {
      const out = results();
      const r = await run('run_all.sh', ['--results-dir', out], withBucket({ STUB_DEPLOYING_POLLS: '2' }), bundle, { clock: true });
      assert.equal(r.code, 0, r.stderr);
      const deploys = named(r.calls, 'serve', 'deploy').map((c) => c.split('/').pop());
      assert.deepEqual(deploys, ['collocated_baseline.yaml', 'collocated_lmcache.yaml', 'pd_nixl.yaml', 'pd_multiconnector.yaml']);
      // Order per config: deploy, status polls, smoke (curl chat), benchmark (vllm), shutdown.
      const firstDeploy = r.calls.findIndex((c) => c.startsWith('serve deploy'));
      const firstBench = r.calls.findIndex((c) => c.startsWith('vllm'));
      const firstChat = r.calls.findIndex((c) => c.includes('/v1/chat/completions'));
      const secondDeploy = r.calls.findIndex((c, i) => i > firstDeploy && c.startsWith('serve deploy'));
      const shutdownBetween = r.calls.findIndex((c, i) => i > firstBench && c.startsWith('serve shutdown'));
      assert.ok(firstDeploy < firstChat && firstChat < firstBench && firstBench < shutdownBetween && shutdownBetween < secondDeploy, r.calls.join('\n'));
      assert.match(r.stdout, /collocated_baseline: waiting for gptoss-collocated-baseline: DEPLOYING/);
      assert.match(r.stdout, /\[4\/4\] pd_multiconnector: done/);
      assert.match(r.stdout, /node facts: ok gpu-1 i-01abc 10\.0\.1\.13: NIXL LIBFABRIC\/efa, ray 2\.58\.0 vllm 0\.26\.0 nixl 1\.3\.1 lmcache 0\.5\.6/);
      const dir = runDir(out);
      const [download, upload] = named(r.calls, 'aws');
      assert.match(download, /^aws s3 cp --recursive s3:\/\/my-bucket\/cluster\/nodes\/ \S+\/cluster-nodes --region us-east-2/);
      assert.equal(upload, `aws s3 cp --recursive ${dir} s3://my-bucket/results/${dir.split('/').pop()}/ --region us-east-2 --only-show-errors`);
      const uploaded = join(r.work, 's3', 'my-bucket', 'results', dir.split('/').pop()!);
      assert.deepEqual(readdirSync(join(uploaded, 'cluster-nodes')).sort(), ['gpu-0.json', 'gpu-1.json']);
      const metas = sidecars(uploaded);
      assert.deepEqual(Object.keys(metas).sort(), ['collocated-baseline', 'collocated-lmcache', 'pd-multiconnector', 'pd-nixl']
        .map((e) => `gptoss_itl8000_otl1000_mixed_${e}/conc64.meta.json`));
      for (const [path, meta] of Object.entries(metas)) {
        assert.equal(meta.cache.state, 'fresh-deploy', path);
        assert.equal(meta.seed.value, 1000064, `${path}: every config is measured on the same prompts`);
        assert.equal(meta.transport.usesNixl, path.includes('_pd-'), path);
        assert.equal(meta.nodeFacts.source, 's3://my-bucket/cluster/nodes/');
        assert.equal(meta.run.id, dir.split('/').pop());
        // Which bundle ran: here the one on disk, as no SSM parameter names the deploy's (bundle-sync.test.ts has those).
        assert.deepEqual([meta.serveBundle.source, meta.serveBundle.checkedAgainstDeploy], ['local', false], path);
      }
      assert.equal(metas['gptoss_itl8000_otl1000_mixed_pd-nixl/conc64.meta.json'].transport.verified, true);
      assert.equal(metas['gptoss_itl8000_otl1000_mixed_pd-nixl/conc64.meta.json'].serveConfig.id, 'pd_nixl');
    });

    it('keeps results local without a bucket, and then benchmarks no NIXL configuration (nothing verified its transport)', async () => {
      const r = await run('run_all.sh', ['--results-dir', results()]);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /ARTIFACTS_BUCKET is not set/);
      assert.match(r.stderr, /pd_nixl pd_multiconnector move KV over NIXL LIBFABRIC, which not every GPU node verified/);
      assert.match(r.stdout, /problem gpu-0: no node facts file/);
      assert.deepEqual(named(r.calls, 'serve', 'deploy'), [], 'refused before anything was deployed');
      assert.deepEqual(named(r.calls, 'aws'), [], 'no bucket known: nothing uploaded');
      const local = await run('run_all.sh', ['--results-dir', results(), '--only', 'collocated_baseline']);
      assert.equal(local.code, 0, local.stderr);
      assert.match(local.stdout, /results kept in \S+ only/);
    });

    it('refuses the NIXL configurations when a GPU node runs LIBFABRIC over TCP, unless told to measure anyway', async () => {
      const facts = factsDir([nodeFacts(0), nodeFacts(1, { nixl: { backend: 'LIBFABRIC', provider: 'tcp' } })]);
      const refused = await run('run_all.sh', ['--results-dir', results()], withBucket({}, facts));
      assert.equal(refused.code, 1);
      assert.match(refused.stdout, /node facts: problem gpu-1: NIXL LIBFABRIC runs over provider 'tcp', not 'efa'/);
      assert.match(refused.stderr, /pass --allow-unverified-transport to measure anyway/);
      assert.deepEqual(named(refused.calls, 'serve', 'deploy'), []);
      assert.equal(named(refused.calls, 'aws').length, 2, 'the node facts are still uploaded with the (empty) run');

      const out = results();
      const forced = await run('run_all.sh', ['--results-dir', out, '--allow-unverified-transport'], withBucket({}, facts));
      assert.equal(forced.code, 0, forced.stderr);
      assert.match(forced.stdout, /WARNING: pd_nixl pd_multiconnector: NIXL LIBFABRIC is not verified/);
      const metas = sidecars(runDir(out));
      for (const exp of ['pd-nixl', 'pd-multiconnector']) {
        const t = metas[`gptoss_itl8000_otl1000_mixed_${exp}/conc64.meta.json`].transport;
        assert.equal(t.override, true, exp);
        assert.equal(t.verified, false, exp);
        assert.deepEqual(t.nodes['gpu-1'], { backend: 'LIBFABRIC', provider: 'tcp' });
      }
      assert.equal(metas['gptoss_itl8000_otl1000_mixed_collocated-baseline/conc64.meta.json'].transport.override, false);
    });

    it('redeploys for every point of a sweep by default: distinct seeds, every point fresh-deploy', async () => {
      const out = results();
      const r = await run('run_all.sh', ['--only', 'pd_nixl', '--workload', 'all', '-c', '8,16', '--results-dir', out, '--no-upload'], withBucket());
      assert.equal(r.code, 0, r.stderr);
      assert.equal(named(r.calls, 'serve', 'deploy').length, 4, 'one deploy per point');
      const benches = named(r.calls, 'vllm');
      assert.deepEqual(benches.map((c) => arg(c, '--seed')), ['1000008', '1000016', '2000008', '2000016']);
      const dir = runDir(out);
      assert.deepEqual(readdirSync(dir).sort(), ['cluster-nodes', 'gptoss_itl12500_otl100_prefix-reuse_pd-nixl', 'gptoss_itl8000_otl1000_mixed_pd-nixl']);
      const metas = Object.values(sidecars(dir));
      assert.equal(metas.length, 4);
      assert.deepEqual(metas.map((m) => m.cache.state), ['fresh-deploy', 'fresh-deploy', 'fresh-deploy', 'fresh-deploy']);
      assert.equal(new Set(metas.map((m) => m.cache.deploymentId)).size, 4);
      assert.equal(new Set(metas.map((m) => m.seed.value)).size, 4);
      // Each benchmark starts only after its own deploy, smoke test and the previous deploy's release.
      const lifecycle = r.calls.filter((c) => /^(serve (deploy|shutdown)|vllm|curl .*chat)/.test(c)).map((c) => c.split(' ')[0] + (c.includes('chat') ? ' chat' : ` ${c.split(' ')[1]}`));
      assert.deepEqual(lifecycle.slice(0, 9), ['serve shutdown', 'serve deploy', 'curl chat', 'vllm bench', 'serve shutdown',
        'serve shutdown', 'serve deploy', 'curl chat', 'vllm bench']);
      assert.match(r.stdout, /\[1\/1\] pd_nixl \(point 3\/4, router prefix-aware\): deploying \S+\/pd_nixl\.prefix-aware\.yaml/);
      assert.match(r.stdout, /results kept in \S+ \(--no-upload\)/);
      assert.deepEqual(named(r.calls, 'aws').filter((c) => !c.includes('cluster/nodes')), []);
    });

    it('with --cache-policy keep deploys once per Serve file: each workload\'s router, fresh-deploy first, then warm-disjoint', async () => {
      const out = results();
      const r = await run('run_all.sh', ['--only', 'collocated_lmcache', '--workload', 'all', '-c', '8,16', '--cache-policy', 'keep',
        '--seed', '5', '--results-dir', out, '--no-upload'], withBucket());
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(named(r.calls, 'serve', 'deploy').map((c) => c.split('/').pop()),
        ['collocated_lmcache.yaml', 'collocated_lmcache.prefix-aware.yaml'], 'auto: power-of-two for random, prefix-aware for prefix-reuse');
      const metas = sidecars(runDir(out));
      const byPoint = (folder: string, c: number): Json => metas[`gptoss_${folder}_collocated-lmcache/conc${c}.meta.json`];
      const order = [byPoint('itl8000_otl1000_mixed', 8), byPoint('itl8000_otl1000_mixed', 16),
        byPoint('itl12500_otl100_prefix-reuse', 8), byPoint('itl12500_otl100_prefix-reuse', 16)];
      assert.deepEqual(order.map((m) => m.cache.state), ['fresh-deploy', 'warm-disjoint', 'fresh-deploy', 'warm-disjoint']);
      assert.deepEqual(order.map((m) => m.cache.pointsBefore), [0, 1, 0, 1]);
      assert.deepEqual(order.map((m) => m.layout.router.name), ['power-of-two', 'power-of-two', 'prefix-aware', 'prefix-aware']);
    });

    it('with --cache-policy keep and one router for both workloads deploys once per config and records the later points as warm-disjoint', async () => {
      const out = results();
      const r = await run('run_all.sh', ['--only', 'collocated_lmcache', '--workload', 'all', '-c', '8,16', '--cache-policy', 'keep',
        '--router', 'prefix-aware', '--seed', '5', '--results-dir', out, '--no-upload'], withBucket());
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(named(r.calls, 'serve', 'deploy').map((c) => c.split('/').pop()), ['collocated_lmcache.prefix-aware.yaml']);
      const metas = sidecars(runDir(out));
      const byPoint = (folder: string, c: number): Json => metas[`gptoss_${folder}_collocated-lmcache/conc${c}.meta.json`];
      const order = [byPoint('itl8000_otl1000_mixed', 8), byPoint('itl8000_otl1000_mixed', 16),
        byPoint('itl12500_otl100_prefix-reuse', 8), byPoint('itl12500_otl100_prefix-reuse', 16)];
      assert.deepEqual(order.map((m) => m.cache.state), ['fresh-deploy', 'warm-disjoint', 'warm-disjoint', 'warm-disjoint']);
      assert.deepEqual(order.map((m) => m.cache.pointsBefore), [0, 1, 2, 3]);
      assert.deepEqual(order.map((m) => m.seed.value), [1000013, 1000021, 2000013, 2000021]);
      assert.deepEqual(order.map((m) => m.cache.policy), ['keep', 'keep', 'keep', 'keep']);
    });

    it('stops with a clear message when a config never becomes healthy', async () => {
      const r = await run('run_all.sh', ['--no-upload', '--only', 'collocated_baseline', '--results-dir', results()],
        { STUB_STATUS: 'DEPLOYING', HEALTH_TIMEOUT_S: '1', POLL_INTERVAL_S: '0.2' }, bundle, { clock: true });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /collocated_baseline did not become healthy within 1s \(last status DEPLOYING\); stopping/);
      assert.equal(named(r.calls, 'serve', 'deploy').length, 1, 'no further config is deployed');
      assert.deepEqual(named(r.calls, 'vllm'), []);
      assert.ok(named(r.calls, 'serve', 'shutdown').length >= 1, 'the failed app is shut down');
    });

    it('waits for Serve\'s placement groups to be REMOVED before the next deploy, though ray status shows 0 GPUs used', async () => {
      const r = await run('run_all.sh', ['--only', 'collocated_baseline,pd_nixl', '--no-upload', '--results-dir', results()],
        withBucket({ STUB_PG_POLLS: '3', STUB_APP_POLLS: '1' }), bundle, { clock: true });
      assert.equal(r.code, 0, r.stderr);
      const lifecycle = r.calls.filter((c) => /^(serve (shutdown|deploy)|ray list)/.test(c)).map((c) => c.split(' ').slice(0, 2).join(' '));
      const second = lifecycle.lastIndexOf('serve deploy');
      assert.deepEqual(lifecycle.slice(second - 5, second + 1),
        ['serve shutdown', 'ray list', 'ray list', 'ray list', 'ray list', 'serve deploy'], lifecycle.join('\n'));
      assert.match(r.stdout, /waiting for Serve to release the GPUs: applications: gptoss-collocated-baseline \(DELETING\); placement groups: 1 placement group\(s\) holding 4 GPU\(s\): SERVE_REPLICA::gptoss-collocated-baseline#\S+ \(CREATED, 4 GPU\)/);
      assert.match(r.stdout, /waiting for Serve to release the GPUs: applications: none; placement groups: 1 placement group/);
      assert.match(r.stdout, /Serve has no application left and no placement group holds GPUs/);
      // Besides the placement groups, only the evidence asks Ray where the replicas run (bench_evidence.py).
      const evidenceCalls = ['ray list nodes --format json --detail --filter state=ALIVE --limit 10000',
        'ray list actors --format json --detail --filter state=ALIVE --limit 10000'];
      assert.ok(named(r.calls, 'ray', 'list').every((c) => c === "ray list placement-groups --detail --format json --filter state!=REMOVED --limit 10000" ||
        evidenceCalls.includes(c)), named(r.calls, 'ray', 'list').join('\n'));
    });

    it('stops, deploying nothing more, when a placement group is never released', async () => {
      const r = await run('run_all.sh', ['--no-upload', '--results-dir', results()],
        withBucket({ STUB_PG_POLLS: '-1', SHUTDOWN_TIMEOUT_S: '1', POLL_INTERVAL_S: '0.5' }), bundle, { clock: true });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /Serve has not released the cluster \d+s after shutdown \(applications: none; placement groups: 1 placement group\(s\) holding 4 GPU\(s\)/);
      assert.deepEqual(named(r.calls, 'serve', 'deploy'), [], 'nothing is deployed onto held GPUs');
    });

    it('never takes a failing ray list for released GPUs', async () => {
      const r = await run('run_all.sh', ['--no-upload', '--results-dir', results()],
        withBucket({ STUB_LIST_FAILS: '1', SHUTDOWN_TIMEOUT_S: '1', POLL_INTERVAL_S: '0.5' }), bundle, { clock: true });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /placement groups: unknown \(ray list placement-groups failed\)/);
      assert.deepEqual(named(r.calls, 'serve', 'deploy'), []);
    });

    it('stops when an application never appears after serve deploy', async () => {
      const r = await run('run_all.sh', ['--no-upload', '--only', 'collocated_baseline', '--results-dir', results()],
        { STUB_STATUS: 'NOT_STARTED', NOT_STARTED_TIMEOUT_S: '1', POLL_INTERVAL_S: '0.2' }, bundle, { clock: true });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /collocated_baseline: application \S+ never appeared \d+s after serve deploy/);
    });

    it('stops at once when a deploy fails, and still uploads the results it has', async () => {
      const out = results();
      const r = await run('run_all.sh', ['--results-dir', out], withBucket({ STUB_DEPLOY_FAIL_AT: '2', HEALTH_TIMEOUT_S: '30' }));
      assert.equal(r.code, 1);
      assert.match(r.stderr, /collocated_lmcache failed to deploy/);
      assert.equal(named(r.calls, 'serve', 'deploy').length, 2, 'nothing after the failed config');
      const dir = runDir(out);
      const uploads = named(r.calls, 'aws').filter((c) => c.includes(' s3://my-bucket/results/'));
      assert.deepEqual(uploads, [`aws s3 cp --recursive ${dir} s3://my-bucket/results/${dir.split('/').pop()}/ --region us-east-2 --only-show-errors`]);
      const uploaded = join(r.work, 's3', 'my-bucket', 'results', dir.split('/').pop()!);
      assert.deepEqual(Object.keys(sidecars(uploaded)), ['gptoss_itl8000_otl1000_mixed_collocated-baseline/conc64.meta.json']);
      assert.ok(existsSync(join(uploaded, 'gptoss_itl8000_otl1000_mixed_collocated-baseline', 'conc64.json')));
    });

    it('stops before any benchmark when the smoke test fails, and uploads what the run has', async () => {
      const out = results();
      const r = await run('run_all.sh', ['--results-dir', out], withBucket({ STUB_ANSWER: 'Lyon.' }));
      assert.equal(r.code, 1);
      assert.match(r.stderr, /does not mention "paris"/);
      assert.match(r.stderr, /collocated_baseline: smoke test failed/);
      assert.deepEqual(named(r.calls, 'vllm'), [], 'no benchmark ran');
      assert.equal(named(r.calls, 'serve', 'deploy').length, 1, 'no further config is deployed');
      assert.ok(named(r.calls, 'serve', 'shutdown').length >= 2, 'the deployed app is shut down');
      const dir = runDir(out);
      assert.ok(named(r.calls, 'aws').some((c) => c.startsWith(`aws s3 cp --recursive ${dir} s3://my-bucket/results/`)), r.calls.join('\n'));
      assert.ok(existsSync(join(r.work, 's3', 'my-bucket', 'results', dir.split('/').pop()!, 'cluster-nodes', 'gpu-0.json')));
    });

    for (const [args, message] of [
      [['--cache-policy', 'reset'], /--cache-policy reset: use redeploy or keep/],
      [['-c', '8,8'], /lists 8 twice/],
      [['-c', '8,x'], /x is not a whole number from 1 to 999999/],
      [['--seed', '99999999999'], /--seed 99999999999: use a whole number from 0 to 4291967295/],
      [['--workload', 'chat'], /--workload chat: use random, prefix-reuse or all/],
      [['--router', 'round-robin'], /--router round-robin: use one of auto power-of-two prefix-aware/],
    ] as const) {
      it(`rejects ${args.join(' ')} before touching the cluster`, async () => {
        const r = await run('run_all.sh', args);
        assert.equal(r.code, 1);
        assert.match(r.stderr, message);
        assert.deepEqual(r.calls, []);
      });
    }
  });

  describe('run_all.sh and the deploy-cache upload a node runs after it is ready', { concurrency: CONCURRENCY }, () => {
    const uploading = () => {
      const facts = factsDir();
      writeFileSync(join(facts, 'gpu-0.cache-upload.json'), JSON.stringify({ node: 'gpu-0', state: 'running' }));
      writeFileSync(join(facts, 'head-0.cache-upload.json'), JSON.stringify({ node: 'head-0', state: 'done' }));
      return facts;
    };
    const recorded = (out: string) => JSON.parse(readFileSync(join(runDir(out), 'cache-upload.json'), 'utf8'));

    it('waits, with progress, until a running upload is done, then benchmarks, and records the wait', async () => {
      const out = results();
      const r = await run('run_all.sh', ['--only', 'collocated_baseline', '--results-dir', out, '--no-upload'], withBucket({ STUB_UPLOAD_POLLS: '3' }, uploading()),
        bundle, { clock: true });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /waiting for the deploy-cache upload of gpu-0 to finish before benchmarking/);
      assert.match(r.stdout, /deploy-cache upload of gpu-0: done/);
      const polls = r.calls.filter((c) => c.startsWith('aws s3 cp s3://my-bucket/cluster/nodes/gpu-0.cache-upload.json'));
      assert.equal(polls.length, 3, r.calls.join('\n'));
      assert.ok(r.calls.lastIndexOf(polls[2]) < r.calls.findIndex((c) => c.startsWith('serve deploy')), r.calls.join('\n'));
      assert.deepEqual({ ...recorded(out), waitedSeconds: 0 }, { waited: true, waitedSeconds: 0, runningAtStart: ['gpu-0'], runningAtFirstBenchmark: [] });
    });

    it('benchmarks beside it with --no-wait-cache-upload, saying so and recording it', async () => {
      const out = results();
      const r = await run('run_all.sh', ['--only', 'collocated_baseline', '--results-dir', out, '--no-upload', '--no-wait-cache-upload'],
        withBucket({ STUB_UPLOAD_POLLS: '3' }, uploading()));
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /WARNING: the deploy-cache upload of gpu-0 is still running \(--no-wait-cache-upload\)/);
      assert.deepEqual({ ...recorded(out), waitedSeconds: 0 }, { waited: false, waitedSeconds: 0, runningAtStart: ['gpu-0'], runningAtFirstBenchmark: ['gpu-0'] });
      assert.ok(!r.calls.some((c) => c.includes('.cache-upload.json')), 'not polled');
    });

    it('gives up at CACHE_UPLOAD_TIMEOUT_S before deploying anything, naming the node and the way out', async () => {
      const r = await run('run_all.sh', ['--only', 'collocated_baseline', '--results-dir', results(), '--no-upload'],
        // This wait is timed by bash's $SECONDS, not `date`: real seconds, polled a few times.
        withBucket({ STUB_UPLOAD_POLLS: '1000000', CACHE_UPLOAD_TIMEOUT_S: '1', POLL_INTERVAL_S: '0.4' }, uploading()));
      assert.equal(r.code, 1);
      assert.match(r.stderr, /the deploy-cache upload of gpu-0 still runs after 1s .*--no-wait-cache-upload/);
      assert.deepEqual(named(r.calls, 'serve', 'deploy'), []);
    });
  });

  describe('run_all.sh of the full-cluster profile', { concurrency: CONCURRENCY }, () => {
    it('runs the five configurations, the fifth last, each at every concurrency of the sweep on its own deploy, and records its layout beside every result', async () => {
      const out = results();
      const r = await run('run_all.sh', ['--results-dir', out, '--no-upload'], withBucket(), fullBundle);
      assert.equal(r.code, 0, r.stderr);
      const deploys = named(r.calls, 'serve', 'deploy').map((c) => c.split('/').pop());
      const ids = ['collocated_baseline', 'collocated_lmcache', 'pd_nixl', 'pd_multiconnector', 'pd_prefill_lmcache'];
      assert.deepEqual(deploys, ids.flatMap((id) => [`${id}.yaml`, `${id}.yaml`, `${id}.yaml`]));
      assert.deepEqual(named(r.calls, 'vllm').map((c) => arg(c, '--max-concurrency')), ids.flatMap(() => ['64', '128', '256']));
      assert.match(r.stdout, /\[5\/5\] pd_prefill_lmcache: 16 GPUs \(profile full-cluster/);
      const metas = sidecars(runDir(out));
      assert.equal(Object.keys(metas).length, 15);
      for (const [path, meta] of Object.entries(metas)) {
        assert.equal(meta.layout.gpus, 16, path);
        assert.equal(meta.layout.clusterGpus, 16, path);
        assert.equal(meta.layout.profile, 'full-cluster', path);
        assert.equal(meta.layout.router.name, 'power-of-two', path);
        assert.equal(meta.layout.configuration, meta.serveConfig.id, path);
        assert.equal(meta.schema, 1, 'a new section keeps the sidecar schema');
      }
      const fifth = metas['gptoss_itl8000_otl1000_mixed_pd-prefill-lmcache/conc256.meta.json'].layout;
      assert.deepEqual(fifth.engines.prefill_config, { replicas: 2, tensorParallelSize: 4, gpus: 8, connectors: ['MultiConnector', 'NixlConnector', 'LMCacheConnectorV1'] });
      assert.deepEqual(fifth.engines.decode_config, { replicas: 2, tensorParallelSize: 4, gpus: 8, connectors: ['NixlConnector'] });
      assert.equal(metas['gptoss_itl8000_otl1000_mixed_pd-prefill-lmcache/conc64.meta.json'].transport.usesNixl, true);
      assert.equal(metas['gptoss_itl8000_otl1000_mixed_collocated-baseline/conc64.meta.json'].layout.layout, '4 × TP4');
    });

    it('deploys the prefix-aware files for the prefix-reuse workload and records the router in each result', async () => {
      const out = results();
      const r = await run('run_all.sh', ['--only', 'collocated_baseline,pd_prefill_lmcache', '--workload', 'prefix-reuse', '-c', '32',
        '--results-dir', out, '--no-upload'], withBucket(), fullBundle);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(named(r.calls, 'serve', 'deploy').map((c) => c.split('/').pop()),
        ['collocated_baseline.prefix-aware.yaml', 'pd_prefill_lmcache.prefix-aware.yaml']);
      for (const meta of Object.values(sidecars(runDir(out)))) {
        assert.equal(meta.layout.router.name, 'prefix-aware');
        assert.equal(meta.layout.router.requestRouterClass, 'ray.serve.llm.request_router:PrefixCacheAffinityRouter');
      }
      const forced = await run('run_all.sh', ['--only', 'collocated_baseline', '--workload', 'prefix-reuse', '-c', '32', '--router', 'power-of-two',
        '--results-dir', results(), '--no-upload'], withBucket(), fullBundle);
      assert.equal(forced.code, 0, forced.stderr);
      assert.deepEqual(named(forced.calls, 'serve', 'deploy').map((c) => c.split('/').pop()), ['collocated_baseline.yaml']);
    });

    it('refuses to start when a Serve file or its layout record is missing from the bundle', async () => {
      const broken = writeBundle();
      rmSync(join(broken, 'pd_nixl.prefix-aware.layout.json'));
      const r = await run('run_all.sh', ['--workload', 'all', '--results-dir', results(), '--no-upload'], withBucket(), broken);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /pd_nixl\.prefix-aware\.layout\.json \(the layout record of pd_nixl\.prefix-aware\.yaml\) is missing/);
      assert.deepEqual(named(r.calls, 'serve', 'deploy'), []);
    });
  });
});
