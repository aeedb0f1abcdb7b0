import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { before, describe, it } from 'node:test';
import { writeBundle } from './helpers';

/**
 * Stand-ins for the cluster's tools. Each records its arguments in $STUB_LOG; behaviour is steered by env vars:
 * STUB_STATUS (application status, default RUNNING after STUB_DEPLOYING_POLLS polls), STUB_ANSWER (chat answer).
 */
const STUBS: Record<string, string> = {
  serve: `
if [ "$1" = status ]; then
  n=$(cat "$STUB_DIR/polls" 2>/dev/null || echo 0); echo $((n + 1)) > "$STUB_DIR/polls"
  if [ "$n" -lt "\${STUB_DEPLOYING_POLLS:-0}" ]; then echo "status: DEPLOYING"; else echo "status: \${STUB_STATUS:-RUNNING}"; fi
fi
if [ "$1" = deploy ]; then echo 0 > "$STUB_DIR/polls"; fi
if [ "$1" = shutdown ]; then echo 0 > "$STUB_DIR/busy"; fi`,
  vllm: `
dir=""; name=""
while [ $# -gt 0 ]; do case "$1" in --result-dir) dir="$2"; shift 2;; --result-filename) name="$2"; shift 2;; *) shift;; esac; done
mkdir -p "$dir"; echo '{"completed": 1, "request_throughput": 1, "output_throughput": 1, "mean_ttft_ms": 1, "mean_tpot_ms": 1}' > "$dir/$name"`,
  // GPUs stay in use for the first STUB_BUSY_POLLS calls after a shutdown (or always, with STUB_BUSY_POLLS=-1).
  ray: `
if [ "$1" = status ]; then
  echo "Active: 3 nodes"; echo "Usage:"; echo " 0.0/384.0 CPU"
  n=$(cat "$STUB_DIR/busy" 2>/dev/null || echo 0); echo $((n + 1)) > "$STUB_DIR/busy"
  if [ "\${STUB_BUSY_POLLS:-0}" = -1 ] || [ "$n" -lt "\${STUB_BUSY_POLLS:-0}" ]; then echo " 8.0/16.0 GPU"; else echo " 0.0/16.0 GPU"; fi
fi`,
  aws: '',
  curl: `
case "$*" in
  */v1/models*) echo '{"data": [{"id": "gptoss"}]}';;
  */v1/chat/completions*) echo "{\\"choices\\": [{\\"message\\": {\\"content\\": \\"\${STUB_ANSWER:-Paris.}\\"}}]}";;
esac`,
};

interface RunResult { readonly code: number; readonly stdout: string; readonly stderr: string; readonly calls: string[]; readonly work: string }

let bundle: string;

function run(script: string, args: readonly string[], env: Record<string, string> = {}): RunResult {
  const work = mkdtempSync(join(tmpdir(), 'serve-run-'));
  const bin = join(work, 'bin');
  spawnSync('mkdir', ['-p', bin]);
  for (const [name, body] of Object.entries(STUBS)) {
    const path = join(bin, name);
    writeFileSync(path, `#!/usr/bin/env bash\necho "${name} $*" >> "$STUB_LOG"\n${body}\n`);
    chmodSync(path, 0o755);
  }
  const log = join(work, 'calls.log');
  writeFileSync(log, '');
  const r = spawnSync(join(bundle, script), args, {
    cwd: work,
    encoding: 'utf8',
    timeout: 20_000,
    env: {
      PATH: `${bin}:/usr/bin:/bin`, HOME: work, STUB_LOG: log, STUB_DIR: work,
      CLUSTER_ENV: join(work, 'cluster.env'), HEALTH_TIMEOUT_S: '5', POLL_INTERVAL_S: '0.1', ...env,
    },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, calls: readFileSync(log, 'utf8').split('\n').filter(Boolean), work };
}

const named = (calls: readonly string[], tool: string, sub?: string): string[] =>
  calls.filter((c) => c.startsWith(`${tool} `) && (sub === undefined || c.split(' ')[1] === sub));

describe('serve bundle scripts', () => {
  before(() => { bundle = writeBundle(); });

  it('are shellcheck-clean', async () => {
    const scripts = readdirSync(bundle).filter((f) => f.endsWith('.sh'));
    assert.deepEqual(scripts.sort(), ['run_all.sh', 'run_bm.sh']);
    await promisify(execFile)('shellcheck', scripts.map((s) => join(bundle, s)));
  });

  describe('run_bm.sh', () => {
    it('runs the brief\'s benchmark by default: 8000 in, 1000 out, concurrency 64, 320 prompts', () => {
      const r = run('run_bm.sh', ['-e', 'exp1']);
      assert.equal(r.code, 0, r.stderr);
      const [call] = named(r.calls, 'vllm', 'bench');
      for (const expected of ['--num-prompts 320', '--max-concurrency 64', '--prefix-repetition-prefix-len 0',
        '--prefix-repetition-suffix-len 8000', '--prefix-repetition-output-len 1000', '--ignore-eos',
        '--model openai/gpt-oss-120b', '--served-model-name gptoss', '--dataset-name prefix_repetition']) {
        assert.ok(call.includes(expected), `${expected} missing in: ${call}`);
      }
      assert.ok(existsSync(join(r.work, 'bm_results', 'gptoss_itl8000_otl1000_mixed_exp1', 'conc64.json')));
      assert.match(r.stdout, /\[1\/1\] concurrency 64, 320 prompts/);
    });

    it('sweeps a concurrency list into one file per concurrency', () => {
      const r = run('run_bm.sh', ['-e', 'sweep', '-c', '8,16', '--itl', '2000', '--otl', '100']);
      assert.equal(r.code, 0, r.stderr);
      const calls = named(r.calls, 'vllm');
      assert.equal(calls.length, 2);
      assert.ok(calls[0].includes('--num-prompts 40') && calls[1].includes('--num-prompts 80'));
      assert.deepEqual(readdirSync(join(r.work, 'bm_results', 'gptoss_itl2000_otl100_mixed_sweep')).sort(), ['conc16.json', 'conc8.json']);
    });

    it('runs the prefix-reuse workload into its own folder', () => {
      const r = run('run_bm.sh', ['-e', 'pd-nixl', '--workload', 'prefix-reuse']);
      assert.equal(r.code, 0, r.stderr);
      const [call] = named(r.calls, 'vllm');
      for (const expected of ['--prefix-repetition-prefix-len 12000', '--prefix-repetition-num-prefixes 400', '--num-prompts 1600']) {
        assert.ok(call.includes(expected), `${expected} missing in: ${call}`);
      }
      assert.ok(existsSync(join(r.work, 'bm_results', 'gptoss_itl12500_otl100_prefix-reuse_pd-nixl', 'conc64.json')));
    });

    it('rejects an experiment name with _ (it separates the folder name\'s parts)', () => {
      const r = run('run_bm.sh', ['-e', 'a_b']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /use letters, digits/);
      assert.deepEqual(named(r.calls, 'vllm'), []);
    });

    it('--smoke sends one chat request and checks the answer', () => {
      const ok = run('run_bm.sh', ['--smoke']);
      assert.equal(ok.code, 0, ok.stderr);
      const curls = named(ok.calls, 'curl');
      assert.equal(curls.length, 1);
      assert.match(curls[0], /\/v1\/chat\/completions/);
      assert.match(curls[0], /"model": "gptoss"/);
      assert.deepEqual(named(ok.calls, 'vllm'), []);
      const wrong = run('run_bm.sh', ['--smoke'], { STUB_ANSWER: 'Lyon.' });
      assert.notEqual(wrong.code, 0);
      assert.match(wrong.stderr, /does not mention "paris"/);
    });
  });

  describe('run_all.sh', () => {
    it('deploys, waits, smoke-tests, benchmarks and shuts down each config in turn, then uploads', () => {
      const env = { STUB_DEPLOYING_POLLS: '2' };
      const r0 = run('run_all.sh', [], env);
      assert.equal(r0.code, 0, r0.stderr);
      // Same again with the bucket from the cluster env file the node bootstrap writes, as on the head node.
      writeFileSync(join(r0.work, 'cluster.env'), 'BUCKET=my-bucket\nREGION=us-east-2\n');
      const r = run('run_all.sh', [], { ...env, CLUSTER_ENV: join(r0.work, 'cluster.env') });
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
      const results = readdirSync(join(bundle, 'bm_results')).sort();
      for (const exp of ['collocated-baseline', 'collocated-lmcache', 'pd-nixl', 'pd-multiconnector']) {
        assert.ok(results.includes(`gptoss_itl8000_otl1000_mixed_${exp}`), results.join(', '));
      }
      const [upload] = named(r.calls, 'aws');
      assert.match(upload, /^aws s3 cp --recursive \S+\/bm_results s3:\/\/my-bucket\/results\/\d{8}T\d{6}Z\/ --region us-east-2/);
      assert.deepEqual(named(r0.calls, 'aws'), [], 'no bucket known: nothing uploaded');
      assert.match(r0.stdout, /ARTIFACTS_BUCKET is not set/);
    });

    it('runs both workloads with --workload all, limited by --only', () => {
      const results = join(mkdtempSync(join(tmpdir(), 'serve-results-')), 'r');
      const r = run('run_all.sh', ['--only', 'pd_nixl', '--workload', 'all', '--results-dir', results, '--no-upload']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(named(r.calls, 'serve', 'deploy').length, 1);
      assert.deepEqual(readdirSync(results).sort(), ['gptoss_itl12500_otl100_prefix-reuse_pd-nixl', 'gptoss_itl8000_otl1000_mixed_pd-nixl']);
      assert.deepEqual(named(r.calls, 'aws'), []);
    });

    it('stops with a clear message when a config never becomes healthy', () => {
      const r = run('run_all.sh', ['--no-upload'], { STUB_STATUS: 'DEPLOYING', HEALTH_TIMEOUT_S: '1', POLL_INTERVAL_S: '0.2' });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /collocated_baseline did not become healthy within 1s \(last status DEPLOYING\); stopping/);
      assert.equal(named(r.calls, 'serve', 'deploy').length, 1, 'no further config is deployed');
      assert.deepEqual(named(r.calls, 'vllm'), []);
      assert.ok(named(r.calls, 'serve', 'shutdown').length >= 1, 'the failed app is shut down');
    });

    it('deploys the next config only after the previous one has released every GPU', () => {
      const r = run('run_all.sh', ['--only', 'collocated_baseline,pd_nixl', '--no-upload'], { STUB_BUSY_POLLS: '2' });
      assert.equal(r.code, 0, r.stderr);
      const lifecycle = r.calls.filter((c) => /^(serve (shutdown|deploy)|ray status)/.test(c));
      const secondDeploy = lifecycle.lastIndexOf(lifecycle.filter((c) => c.startsWith('serve deploy'))[1]);
      assert.deepEqual(lifecycle.slice(secondDeploy - 4, secondDeploy + 1).map((c) => c.split(' ').slice(0, 2).join(' ')),
        ['serve shutdown', 'ray status', 'ray status', 'ray status', 'serve deploy'], lifecycle.join('\n'));
      assert.match(r.stdout, /waiting for Serve to release the GPUs: 8\.0 in use/);
    });

    it('stops when Serve never releases the GPUs after a shutdown', () => {
      const r = run('run_all.sh', ['--no-upload'], { STUB_BUSY_POLLS: '-1', SHUTDOWN_TIMEOUT_S: '1', POLL_INTERVAL_S: '0.2' });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /Serve still holds 8\.0 GPUs \d+s after shutdown/);
      assert.deepEqual(named(r.calls, 'serve', 'deploy'), [], 'nothing is deployed onto busy GPUs');
    });

    it('stops when an application never appears after serve deploy', () => {
      const r = run('run_all.sh', ['--no-upload'], { STUB_STATUS: 'NOT_STARTED', NOT_STARTED_TIMEOUT_S: '1', POLL_INTERVAL_S: '0.2' });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /collocated_baseline: application \S+ never appeared \d+s after serve deploy/);
    });

    it('stops at once when a deploy fails', () => {
      const r = run('run_all.sh', ['--no-upload'], { STUB_STATUS: 'DEPLOY_FAILED', HEALTH_TIMEOUT_S: '30' });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /collocated_baseline failed to deploy/);
      assert.equal(named(r.calls, 'serve', 'status').length, 2, 'one poll, then the details');
    });
  });
});
