import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { before, describe, it } from 'node:test';
import { SOFTWARE } from '../../lib/catalog/software';
import { Json, writeBundle, YAML_FILES } from './helpers';

const REPO = resolve(__dirname, '..', '..');
const PYTHON = join(REPO, '.test-venv', 'bin', 'python');
const CHECKER = join(__dirname, 'validate_bundle.py');

/** Defaults (TP 4, 1P1D, LIBFABRIC) and a different shape (TP 2, 3 prefill + 2 decode replicas, UCX). */
const DEFAULT_RAW = {};
const SCALED_RAW = { tensorParallelSize: 2, gpuNodes: 3, prefillReplicas: 3, decodeReplicas: 2, nixlBackend: 'UCX' };

interface NodeBundle { readonly GPU: number; readonly [resource: string]: number }

describe('serve bundle against Ray', () => {
  let report: Json;
  let defaults: Json;
  let scaled: Json;

  before(async () => {
    if (!existsSync(PYTHON)) {
      throw new Error(`no Python venv at ${PYTHON}: run scripts/setup-python-venv.sh first (it installs ray==${SOFTWARE.ray})`);
    }
    const defaultDir = writeBundle(DEFAULT_RAW);
    const scaledDir = writeBundle(SCALED_RAW);
    const { stdout } = await promisify(execFile)(PYTHON, [CHECKER, defaultDir, scaledDir], { maxBuffer: 64 << 20 });
    report = JSON.parse(stdout);
    defaults = report.bundles[defaultDir];
    scaled = report.bundles[scaledDir];
  });

  it(`runs the pinned Ray ${SOFTWARE.ray}, whose LLMConfig rejects unknown keys`, () => {
    assert.equal(report.ray_version, SOFTWARE.ray);
    assert.equal(report.rejects_unknown_llm_config_key, true);
  });

  it('validates every file against ServeDeploySchema and every LLM config against LLMConfig', () => {
    for (const bundle of [defaults, scaled]) {
      assert.deepEqual(Object.keys(bundle.files).sort(), YAML_FILES.map((f) => f.replace('.yaml', '')).sort());
      for (const [name, result] of Object.entries<Json>(bundle.files)) {
        assert.equal(result.schema, 'ok', name);
        const roles = name.startsWith('pd_') ? ['prefill_config', 'decode_config'] : ['llm_config'];
        assert.deepEqual(Object.keys(result.llm_configs).sort(), roles.sort(), name);
        for (const role of roles) assert.equal(result.llm_configs[role], 'ok', `${name} ${role}`);
      }
    }
  });

  it('builds the collocated apps with build_openai_app and the YAML settings', () => {
    for (const name of ['collocated_baseline', 'collocated_lmcache']) {
      const run = defaults.builders[name].two_gpu_nodes;
      assert.equal(run.ok, true, run.error);
      assert.equal(run.calls.length, 1);
      const call = run.calls[0];
      assert.equal(call.fn, 'build_openai_app');
      assert.equal(call.llm_configs[0].model_id, 'gptoss');
      assert.equal(call.llm_configs[0].engine_kwargs.tensor_parallel_size, 4);
      assert.deepEqual(call.ingress_deployment_config, { num_replicas: 16 });
    }
  });

  it('pins prefill and decode to two different live GPU nodes with one GPU bundle per TP rank', () => {
    for (const [bundle, tp] of [[defaults, 4], [scaled, 2]] as const) {
      for (const name of ['pd_nixl', 'pd_multiconnector']) {
        const run = bundle.builders[name].two_gpu_nodes;
        assert.equal(run.ok, true, run.error);
        const call = run.calls[0];
        assert.equal(call.fn, 'build_pd_openai_app');
        const pinnedNode = (side: Json): string => {
          const bundles: NodeBundle[] = side.placement_group_config.bundles;
          assert.equal(bundles.length, tp);
          const nodes = new Set(bundles.map((b) => {
            assert.equal(b.GPU, 1);
            const keys = Object.keys(b).filter((k) => k.startsWith('node:'));
            assert.equal(keys.length, 1);
            return keys[0];
          }));
          assert.equal(nodes.size, 1, 'all bundles of one side on one node');
          return [...nodes][0];
        };
        const p = pinnedNode(call.prefill);
        const d = pinnedNode(call.decode);
        assert.notEqual(p, d);
        for (const node of [p, d]) assert.ok(['node:10.0.1.12', 'node:10.0.1.21'].includes(node), `${node} is not a live GPU node`);
        assert.equal(call.prefill.engine_kwargs.tensor_parallel_size, tp);
        assert.equal(call.decode.engine_kwargs.tensor_parallel_size, tp);
      }
    }
    const call = scaled.builders.pd_nixl.two_gpu_nodes.calls[0];
    assert.deepEqual(call.prefill.deployment_config, { num_replicas: 3 });
    assert.deepEqual(call.decode.deployment_config, { num_replicas: 2 });
    assert.deepEqual(call.prefill.engine_kwargs.kv_transfer_config.kv_connector_extra_config, { backends: ['UCX'] });
  });

  it('refuses PD on one GPU node, naming what is missing', () => {
    for (const name of ['pd_nixl', 'pd_multiconnector']) {
      const run = defaults.builders[name].one_gpu_node;
      assert.equal(run.ok, false);
      assert.equal(run.error_type, 'PlacementError');
      assert.match(run.error, /needs 2 different GPU nodes/);
      assert.match(run.error, /only 1 alive GPU node\(s\): 10\.0\.1\.12 \(8 GPUs\)/);
      assert.deepEqual(run.calls, [], 'nothing is built after the error');
    }
  });

  it('refuses PD when no two nodes have enough GPUs for one side\'s replicas × TP', () => {
    assert.match(defaults.builders.pd_nixl.small_gpu_nodes.error, /at least 4 GPUs for 1 prefill replica\(s\) x TP 4/);
    assert.match(scaled.builders.pd_nixl.small_gpu_nodes.error, /at least 6 GPUs for 3 prefill replica\(s\) x TP 2.*no two alive GPU nodes/);
  });

  it('refuses a collocated deploy without a GPU node big enough for one replica', () => {
    const run = defaults.builders.collocated_baseline.no_gpu_nodes;
    assert.equal(run.ok, false);
    assert.match(run.error, /needs a GPU node with at least 4 GPUs.*alive GPU nodes: none/);
    assert.equal(scaled.builders.collocated_baseline.small_gpu_nodes.ok, true, 'TP 2 fits a 2-GPU node');
  });

  it('refuses TP 4 on 2-GPU nodes even when the cluster has 4 GPUs in all: one replica cannot span nodes', () => {
    for (const name of ['collocated_baseline', 'collocated_lmcache']) {
      const run = defaults.builders[name].small_gpu_nodes;
      assert.equal(run.ok, false, `${name} was built on two 2-GPU nodes with TP 4`);
      assert.equal(run.error_type, 'PlacementError');
      assert.match(run.error, /needs a GPU node with at least 4 GPUs \(one replica of tensor_parallel_size 4\); alive GPU nodes: 10\.0\.1\.12 \(2 GPUs\), 10\.0\.1\.21 \(2 GPUs\)/);
      assert.deepEqual(run.calls, [], 'nothing is built after the error');
    }
  });
});
