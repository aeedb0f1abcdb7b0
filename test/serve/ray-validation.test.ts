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

/**
 * Defaults (full-cluster on 2 nodes: 4 × TP4, 2P2D TP4, LIBFABRIC), a different shape (TP 2, 3 prefill + 2 decode
 * replicas, UCX), and the full cluster of 4 nodes, whose PD sides each span two nodes.
 */
const DEFAULT_RAW = {};
const SCALED_RAW = { tensorParallelSize: 2, gpuNodes: 3, prefillReplicas: 3, decodeReplicas: 2, nixlBackend: 'UCX' };
const FOUR_NODES_RAW = { gpuNodes: 4 };

interface NodeBundle { readonly GPU: number; readonly [resource: string]: number }

describe('serve bundle against Ray', () => {
  let report: Json;
  let defaults: Json;
  let scaled: Json;
  let fourNodes: Json;

  before(async () => {
    if (!existsSync(PYTHON)) {
      throw new Error(`no Python venv at ${PYTHON}: run scripts/setup-python-venv.sh first (it installs ray==${SOFTWARE.ray})`);
    }
    const defaultDir = writeBundle(DEFAULT_RAW);
    const scaledDir = writeBundle(SCALED_RAW);
    const fourDir = writeBundle(FOUR_NODES_RAW);
    const { stdout } = await promisify(execFile)(PYTHON, [CHECKER, defaultDir, scaledDir, fourDir], { maxBuffer: 64 << 20 });
    report = JSON.parse(stdout);
    defaults = report.bundles[defaultDir];
    scaled = report.bundles[scaledDir];
    fourNodes = report.bundles[fourDir];
  });

  it(`runs the pinned Ray ${SOFTWARE.ray}, whose LLMConfig rejects unknown keys`, () => {
    assert.equal(report.ray_version, SOFTWARE.ray);
    assert.equal(report.rejects_unknown_llm_config_key, true);
  });

  it('validates every file against ServeDeploySchema and every LLM config against LLMConfig', () => {
    for (const bundle of [defaults, scaled, fourNodes]) {
      assert.deepEqual(Object.keys(bundle.files).sort(), YAML_FILES.map((f) => f.replace(/\.yaml$/, '')).sort());
      for (const [name, result] of Object.entries<Json>(bundle.files)) {
        assert.equal(result.schema, 'ok', name);
        const roles = name.startsWith('pd_') ? ['prefill_config', 'decode_config'] : ['llm_config'];
        assert.deepEqual(Object.keys(result.llm_configs).sort(), roles.sort(), name);
        for (const role of roles) assert.equal(result.llm_configs[role], 'ok', `${name} ${role}`);
      }
    }
  });

  it('names a request router Ray 2.58 has, with keyword arguments its initialize_state takes, on every engine deployment of the prefix-aware files only', () => {
    for (const [name, result] of Object.entries<Json>(defaults.files)) {
      const expected = name.endsWith('.prefix-aware') ? 'ok' : null;
      for (const [role, verdict] of Object.entries(result.request_routers)) assert.equal(verdict, expected, `${name} ${role}`);
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
      assert.equal(call.llm_configs[0].deployment_config.num_replicas, 4, 'the full cluster: 16 GPUs / TP4');
      // Each replica's TP ranks on one node; Ray spreads the replicas.
      assert.deepEqual(call.llm_configs[0].placement_group_config, { bundles: [{ GPU: 1 }, { GPU: 1 }, { GPU: 1 }, { GPU: 1 }], strategy: 'STRICT_PACK' });
      assert.deepEqual(call.ingress_deployment_config, { num_replicas: 16 });
    }
  });

  it('pins prefill and decode to two different live GPU nodes with one GPU bundle per TP rank', () => {
    for (const [bundle, tp] of [[defaults, 4], [scaled, 2]] as const) {
      for (const name of ['pd_nixl', 'pd_multiconnector', 'pd_prefill_lmcache', 'pd_nixl.prefix-aware']) {
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

  it('spreads a PD side over several nodes with a node-id label selector Serve accepts, prefill and decode on disjoint nodes', () => {
    const ids: Record<string, string> = report.node_ids;
    for (const name of ['pd_nixl', 'pd_prefill_lmcache', 'pd_multiconnector.prefix-aware']) {
      const run = fourNodes.builders[name].four_gpu_nodes;
      assert.equal(run.ok, true, run.error);
      const call = run.calls[0];
      const nodesOf = (side: Json): string[] => {
        assert.equal(side.label_selector, 'ok', `${name}: Ray's label and Serve's deployment schema accept the selector`);
        assert.deepEqual(side.placement_group_config, { bundles: [{ GPU: 1 }, { GPU: 1 }, { GPU: 1 }, { GPU: 1 }], strategy: 'STRICT_PACK' });
        const [selector] = side.deployment_config.placement_group_bundle_label_selector;
        const m = /^in\((.+)\)$/.exec(selector['ray.io/node-id']);
        assert.ok(m, JSON.stringify(selector));
        return m[1].split(',');
      };
      // 4 nodes: prefill 4 × TP4 on the first two by address, decode 4 × TP4 on the other two.
      assert.equal(call.prefill.deployment_config.num_replicas, 4);
      assert.equal(call.decode.deployment_config.num_replicas, 4);
      assert.deepEqual(nodesOf(call.prefill), [ids['10.0.1.10'], ids['10.0.1.20']]);
      assert.deepEqual(nodesOf(call.decode), [ids['10.0.1.30'], ids['10.0.1.40']]);
    }
  });

  it('sets disable_hybrid_kv_cache_manager on both sides of pd_prefill_lmcache only, so the NIXL handshake compares equal engines', () => {
    for (const name of Object.keys(defaults.builders).filter((n) => n.startsWith('pd_'))) {
      const call = defaults.builders[name].two_gpu_nodes.calls[0];
      const expected = name.startsWith('pd_prefill_lmcache') ? true : undefined;
      assert.equal(call.prefill.engine_kwargs.disable_hybrid_kv_cache_manager, expected, name);
      assert.equal(call.decode.engine_kwargs.disable_hybrid_kv_cache_manager, expected, name);
    }
  });

  it('refuses PD on one GPU node, naming what is missing', () => {
    for (const name of ['pd_nixl', 'pd_multiconnector', 'pd_prefill_lmcache']) {
      const run = defaults.builders[name].one_gpu_node;
      assert.equal(run.ok, false);
      assert.equal(run.error_type, 'PlacementError');
      assert.match(run.error, /needs 2 prefill replica\(s\) x TP 4 and 2 decode replica\(s\) x TP 4 on different GPU nodes/);
      assert.match(run.error, /only 1 alive GPU node\(s\): 10\.0\.1\.12 \(8 GPUs\)/);
      assert.deepEqual(run.calls, [], 'nothing is built after the error');
    }
  });

  it('refuses PD when no split of the nodes holds both sides\' replicas × TP', () => {
    assert.match(defaults.builders.pd_nixl.small_gpu_nodes.error, /8 GPUs for prefill and 8 for decode.*no split of the alive GPU nodes holds both sides/);
    assert.match(scaled.builders.pd_nixl.small_gpu_nodes.error, /3 prefill replica\(s\) x TP 2 .*6 GPUs for prefill and 4 for decode.*no split/);
    assert.equal(scaled.builders.pd_nixl.two_gpu_nodes.ok, true);
  });

  it('refuses a collocated deploy without a GPU node big enough for one replica, or without room for every replica', () => {
    const run = defaults.builders.collocated_baseline.no_gpu_nodes;
    assert.equal(run.ok, false);
    assert.match(run.error, /needs a GPU node with at least 4 GPUs.*alive GPU nodes: none/);
    assert.match(defaults.builders.collocated_baseline.one_gpu_node.error,
      /needs 4 replica\(s\) x TP 4, each on one node, but the alive GPU nodes hold 2: 10\.0\.1\.12 \(8 GPUs\)/);
    assert.match(scaled.builders.collocated_baseline.small_gpu_nodes.error, /needs 12 replica\(s\) x TP 2, each on one node, but the alive GPU nodes hold 2/);
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
