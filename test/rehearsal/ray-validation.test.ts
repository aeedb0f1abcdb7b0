/**
 * The rehearsal's serve bundle against Ray 2.58 itself (test/serve/validate_bundle.py): every file against
 * ServeDeploySchema and LLMConfig, and builder.py's one-node PD placement run on a one-GPU and a two-GPU machine.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { before, describe, it } from 'node:test';
import { REHEARSAL_DEFAULTS, REHEARSAL_WORKLOADS, RehearsalSettings, TINY_MODEL_KV_CACHE_MIB, rehearsalClusterConfig, rehearsalTarget } from '../../lib/rehearsal';
import { renderServeBundle, writeServeBundle } from '../../lib/serve';

const REPO = resolve(__dirname, '..', '..');
const PYTHON = join(REPO, '.test-venv', 'bin', 'python');
const CHECKER = join(REPO, 'test', 'serve', 'validate_bundle.py');
 
type Json = any;

function bundle(gpus: number): string {
  const s: RehearsalSettings = {
    ...REHEARSAL_DEFAULTS, concurrencies: [...REHEARSAL_DEFAULTS.concurrencies], dir: '/srv/rehearsal', gpus, gpuName: 'NVIDIA H200',
    workloads: REHEARSAL_WORKLOADS,
  };
  const dir = mkdtempSync(join(tmpdir(), 'rehearsal-bundle-'));
  writeServeBundle(dir, renderServeBundle(rehearsalClusterConfig(s), rehearsalTarget(s)));
  return dir;
}

describe('rehearsal serve bundle against Ray', () => {
  let one: Json;
  let two: Json;
  before(async () => {
    const [a, b] = [bundle(1), bundle(2)];
    const { stdout } = await promisify(execFile)(PYTHON, [CHECKER, a, b], { maxBuffer: 64 << 20 });
    const report = JSON.parse(stdout);
    one = report.bundles[a];
    two = report.bundles[b];
  });

  it('validates every file against ServeDeploySchema and LLMConfig', () => {
    for (const b of [one, two]) {
      for (const [name, result] of Object.entries<Json>(b.files)) {
        assert.equal(result.schema, 'ok', name);
        for (const [role, verdict] of Object.entries(result.llm_configs)) assert.equal(verdict, 'ok', `${name} ${role}`);
      }
    }
  });

  it('on one GPU, gives prefill and decode half of it each, and half of vLLM\'s share of its memory', () => {
    for (const name of ['pd_nixl', 'pd_multiconnector', 'pd_prefill_lmcache']) {
      const run = one.builders[name].rehearsal_one_gpu;
      assert.equal(run.ok, true, JSON.stringify(run));
      const { prefill, decode } = run.calls[0];
      for (const side of [prefill, decode]) {
        assert.deepEqual(side.placement_group_config.bundles, [{ GPU: 0.5, 'node:127.0.0.1': 0.001 }]);
        assert.equal(side.engine_kwargs.gpu_memory_utilization, 0.45);
        assert.equal(side.engine_kwargs.kv_cache_memory_bytes, TINY_MODEL_KV_CACHE_MIB * 2 ** 20);
      }
    }
    // Collocated: one replica on the GPU, whole.
    const collocated = one.builders.collocated_baseline.rehearsal_one_gpu;
    assert.equal(collocated.ok, true, JSON.stringify(collocated));
    assert.deepEqual(collocated.calls[0].llm_configs[0].placement_group_config.bundles, [{ GPU: 1 }]);
  });

  it('on two GPUs, gives each side a GPU of its own, without touching vLLM\'s memory share', () => {
    const run = two.builders.pd_nixl.rehearsal_two_gpus;
    assert.equal(run.ok, true, JSON.stringify(run));
    for (const side of [run.calls[0].prefill, run.calls[0].decode]) {
      assert.deepEqual(side.placement_group_config.bundles, [{ GPU: 1, 'node:127.0.0.1': 0.001 }]);
      assert.equal(side.engine_kwargs.gpu_memory_utilization, undefined);
    }
    assert.equal(two.builders.collocated_baseline.rehearsal_two_gpus.calls[0].llm_configs[0].deployment_config.num_replicas, 2);
  });

  it('refuses the one-node placement on a cluster of several GPU nodes', () => {
    assert.match(one.builders.pd_nixl.two_gpu_nodes.error, /pd_placement 'one-node' is for a one-machine rehearsal, but 2 GPU nodes are alive/);
  });
});
