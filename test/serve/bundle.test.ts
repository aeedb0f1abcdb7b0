import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { NODE_PATHS } from '../../lib/catalog/paths';
import { KV_TRANSFER_CONFIG_FIELDS } from '../../lib/serve';
import { lmcacheConnector, multiConnector, nixlConnector } from '../../lib/serve/kv-transfer';
import { renderAsset } from '../../lib/serve/scripts';
import { ALL_IDS, bundleFor, file, Json, kvTransferConfigs, llmConfigs, writeBundle, YAML_FILES, yamlOf } from './helpers';

describe('serve bundle', () => {
  it('holds the five configs once per router with their layout records, builder.py, the two scripts and their Python helpers, only the scripts executable', () => {
    const files = bundleFor();
    assert.deepEqual(files.map((f) => f.path).sort(),
      [...YAML_FILES, ...YAML_FILES.map((f) => f.replace('.yaml', '.layout.json')), 'builder.py', 'bench_evidence.py', 'bench_record.py',
        'bundle_sync.py', 'cluster_state.py', 'run_all.sh', 'run_bm.sh'].sort());
    assert.deepEqual(files.filter((f) => f.executable).map((f) => f.path).sort(), ['run_all.sh', 'run_bm.sh']);
  });

  it('writes the files with their modes', () => {
    const dir = writeBundle();
    assert.equal(statSync(join(dir, 'run_all.sh')).mode & 0o777, 0o755);
    assert.equal(statSync(join(dir, 'pd_nixl.yaml')).mode & 0o777, 0o644);
    assert.equal(readFileSync(join(dir, 'builder.py'), 'utf8'), file(bundleFor(), 'builder.py').content);
  });

  it('is deterministic', () => {
    assert.deepEqual(bundleFor(), bundleFor());
  });

  it('uses no key outside vLLM KVTransferConfig in any kv_transfer_config, sub-connectors included', () => {
    for (const nixlBackend of ['UCX', 'LIBFABRIC']) {
      const files = bundleFor({ nixlBackend });
      let checked = 0;
      for (const path of YAML_FILES) {
        for (const kv of kvTransferConfigs(yamlOf(files, path))) {
          const extra = Object.keys(kv).filter((k) => !(KV_TRANSFER_CONFIG_FIELDS as readonly string[]).includes(k));
          assert.deepEqual(extra, [], `${path}: ${JSON.stringify(kv)}`);
          checked++;
        }
      }
      // per router: lmcache 1 + nixl 2 + multiconnector 2 × (1 + 2 subs) + prefill-only lmcache (1 + 2) + 1
      assert.equal(checked, 2 * 13);
    }
  });

  it('writes every connector field of every kv_transfer_config exactly, MultiConnector sub-connectors included', () => {
    // The reference example (anyscale/ray-serve-llm-perf-examples, pd+kv_offloading/*.yaml) runs every connector
    // with kv_role kv_both, on both PD sides and inside the MultiConnector; only `backends` moves (see README).
    const lmcache = { kv_connector: 'LMCacheConnectorV1', kv_role: 'kv_both' };
    const nixl = (backend: string): Json => ({ kv_connector: 'NixlConnector', kv_role: 'kv_both', kv_connector_extra_config: { backends: [backend] } });
    const multi = (backend: string): Json => ({
      kv_connector: 'MultiConnector', kv_role: 'kv_both', kv_connector_extra_config: { connectors: [lmcache, nixl(backend)] },
    });
    for (const nixlBackend of ['UCX', 'LIBFABRIC']) {
      const files = bundleFor({ nixlBackend });
      // The fifth configuration: NIXL first on prefill (its handshake metadata and Ray's P/D protocol), LMCache
      // second; decode NIXL alone.
      const prefillOnly = (backend: string): Json => ({
        kv_connector: 'MultiConnector', kv_role: 'kv_both', kv_connector_extra_config: { connectors: [nixl(backend), lmcache] },
      });
      const byId: Record<string, Record<string, Json>> = {
        collocated_baseline: { llm_config: undefined },
        collocated_lmcache: { llm_config: lmcache },
        pd_nixl: { prefill_config: nixl(nixlBackend), decode_config: nixl(nixlBackend) },
        pd_multiconnector: { prefill_config: multi(nixlBackend), decode_config: multi(nixlBackend) },
        pd_prefill_lmcache: { prefill_config: prefillOnly(nixlBackend), decode_config: nixl(nixlBackend) },
      };
      assert.deepEqual(Object.keys(byId).sort(), [...ALL_IDS].sort());
      const expected = Object.fromEntries(YAML_FILES.map((f) => [f, byId[f.split('.')[0]]]));
      for (const path of YAML_FILES) {
        const configs = llmConfigs(yamlOf(files, path));
        assert.deepEqual(Object.keys(configs).sort(), Object.keys(expected[path]).sort(), path);
        for (const [role, kv] of Object.entries(expected[path])) {
          assert.deepEqual(configs[role].engine_kwargs.kv_transfer_config, kv, `${path} ${role} (${nixlBackend})`);
        }
      }
    }
  });

  it('puts the NIXL backend under kv_connector_extra_config.backends, in MultiConnector sub-connectors too', () => {
    for (const nixlBackend of ['UCX', 'LIBFABRIC']) {
      const files = bundleFor({ nixlBackend });
      for (const path of ['pd_nixl.yaml', 'pd_multiconnector.yaml', 'pd_prefill_lmcache.yaml', 'pd_prefill_lmcache.prefix-aware.yaml']) {
        const nixl = kvTransferConfigs(yamlOf(files, path)).filter((kv) => kv.kv_connector === 'NixlConnector');
        assert.equal(nixl.length, 2, path);
        for (const kv of nixl) assert.deepEqual(kv.kv_connector_extra_config.backends, [nixlBackend]);
      }
    }
  });

  it('composes LMCache before NIXL in the MultiConnector and rejects nested or empty ones', () => {
    const multi = kvTransferConfigs(yamlOf(bundleFor(), 'pd_multiconnector.yaml'))[0];
    assert.equal(multi.kv_connector, 'MultiConnector');
    assert.deepEqual(multi.kv_connector_extra_config.connectors.map((c: { kv_connector: string }) => c.kv_connector),
      ['LMCacheConnectorV1', 'NixlConnector']);
    assert.throws(() => multiConnector([]), /at least one/);
    assert.throws(() => multiConnector([multiConnector([lmcacheConnector()]), nixlConnector('UCX')]), /cannot nest/);
  });

  it('has a kv_transfer_config only where the configuration needs one', () => {
    const files = bundleFor();
    assert.equal(kvTransferConfigs(yamlOf(files, 'collocated_baseline.yaml')).length, 0);
    assert.equal(kvTransferConfigs(yamlOf(files, 'collocated_lmcache.yaml'))[0].kv_connector, 'LMCacheConnectorV1');
  });

  it('passes the LMCache settings as LMCACHE_* env vars only to the LMCache configurations', () => {
    const files = bundleFor({ lmcacheChunkSize: 512, lmcacheCpuGbPerRank: 80, lmcacheDiskGb: 500 });
    const withLmcache = ['collocated_lmcache.yaml', 'pd_multiconnector.yaml'].map((path) => Object.values(llmConfigs(yamlOf(files, path))));
    withLmcache.push([llmConfigs(yamlOf(files, 'pd_prefill_lmcache.yaml')).prefill_config]);
    for (const cfgs of withLmcache) {
      for (const cfg of cfgs) {
        const env = cfg.runtime_env.env_vars;
        assert.equal(env.LMCACHE_CHUNK_SIZE, '512');
        assert.equal(env.LMCACHE_MAX_LOCAL_CPU_SIZE, '80');
        assert.equal(env.LMCACHE_LOCAL_CPU, 'True');
        assert.equal(env.LMCACHE_MAX_LOCAL_DISK_SIZE, '500');
        assert.ok(env.LMCACHE_LOCAL_DISK.startsWith(`file://${NODE_PATHS.nvme}/`), env.LMCACHE_LOCAL_DISK);
      }
    }
    const without = ['collocated_baseline.yaml', 'pd_nixl.yaml'].flatMap((path) => Object.values(llmConfigs(yamlOf(files, path))));
    without.push(llmConfigs(yamlOf(files, 'pd_prefill_lmcache.yaml')).decode_config);
    for (const cfg of without) {
      assert.deepEqual(Object.keys(cfg.runtime_env.env_vars).filter((k) => k.startsWith('LMCACHE_')), [], JSON.stringify(cfg.engine_kwargs));
    }
  });

  it('leaves the LMCache disk tier off when lmcacheDiskGb is 0', () => {
    const env = llmConfigs(yamlOf(bundleFor({ lmcacheDiskGb: 0 }), 'collocated_lmcache.yaml')).llm_config.runtime_env.env_vars;
    assert.equal(env.LMCACHE_LOCAL_DISK, undefined);
    assert.equal(env.LMCACHE_MAX_LOCAL_DISK_SIZE, undefined);
  });

  it('keeps the Hugging Face cache on the NVMe store and builder.py on PYTHONPATH', () => {
    const files = bundleFor();
    for (const path of YAML_FILES) {
      const doc = yamlOf(files, path);
      assert.equal(doc.applications[0].runtime_env.env_vars.PYTHONPATH, NODE_PATHS.serveBundle);
      for (const cfg of Object.values(llmConfigs(doc))) {
        assert.ok(cfg.runtime_env.env_vars.HF_HOME.startsWith(`${NODE_PATHS.nvme}/`), path);
      }
    }
  });

  it('changes every file consistently with the model, TP, node count and replicas', () => {
    const raw = {
      model: 'Qwen/Qwen3-32B', servedModelName: 'qwen32', maxModelLen: 20000, tensorParallelSize: 2, gpuNodes: 3,
      prefillReplicas: 3, decodeReplicas: 2,
    };
    const files = bundleFor(raw);
    for (const path of YAML_FILES) {
      const doc = yamlOf(files, path);
      assert.ok(doc.applications[0].name.startsWith('qwen32-'), path);
      for (const [role, cfg] of Object.entries(llmConfigs(doc))) {
        assert.deepEqual(cfg.model_loading_config, { model_id: 'qwen32', model_source: 'Qwen/Qwen3-32B' });
        assert.equal(cfg.engine_kwargs.tensor_parallel_size, 2);
        assert.equal(cfg.engine_kwargs.max_model_len, 20000);
        // full-cluster: 3 nodes × 8 GPUs ÷ TP2 collocated
        const replicas = role === 'prefill_config' ? 3 : role === 'decode_config' ? 2 : 12;
        assert.equal(cfg.deployment_config.num_replicas, replicas, `${path} ${role}`);
      }
    }
    for (const f of files) {
      assert.doesNotMatch(f.content, /gpt-oss|gptoss/, `${f.path} still names the default model`);
    }
    assert.match(file(files, 'run_bm.sh').content, /MODEL="\$\{MODEL:-Qwen\/Qwen3-32B\}"/);
    assert.match(file(files, 'run_bm.sh').content, /SERVED_MODEL_NAME="\$\{SERVED_MODEL_NAME:-qwen32\}"/);
    assert.match(file(files, 'run_all.sh').content, /pd_nixl:qwen32-pd-nixl:pd-nixl/);
  });

  it('tells run_all.sh which configurations move KV over NIXL, and what the node facts are checked against', () => {
    const files = bundleFor({ gpuNodes: 3, nixlBackend: 'UCX' });
    const runAll = file(files, 'run_all.sh').content;
    // id:app:experiment:NIXL:GPUs, full-cluster on 3 nodes: 6 × TP4 collocated, 1 prefill node (2 × TP4) + 2 decode nodes (4 × TP4)
    for (const line of ['collocated_baseline:gptoss-collocated-baseline:collocated-baseline:0:24',
      'collocated_lmcache:gptoss-collocated-lmcache:collocated-lmcache:0:24', 'pd_nixl:gptoss-pd-nixl:pd-nixl:1:24',
      'pd_multiconnector:gptoss-pd-multiconnector:pd-multiconnector:1:24', 'pd_prefill_lmcache:gptoss-pd-prefill-lmcache:pd-prefill-lmcache:1:24']) {
      assert.ok(runAll.includes(`\n  ${line}\n`), line);
    }
    for (const script of ['run_all.sh', 'run_bm.sh']) {
      const text = file(files, script).content;
      assert.match(text, /^GPU_NODES=3$/m, script);
      assert.match(text, /^NIXL_BACKEND="UCX"$/m, script);
      assert.match(text, /^PINNED_VERSIONS="ray=2\.58\.0 vllm=0\.26\.0 nixl=1\.3\.1 lmcache=0\.5\.6"$/m, script);
    }
    assert.match(runAll, /^NODE_FACTS_PREFIX="cluster\/nodes\/"$/m);
  });

  it('renders 8000 in / 1000 out as the benchmark defaults, at the example\'s 64 for reference and a sweep to 256 for the full cluster', () => {
    for (const [raw, list] of [[{ profile: 'reference' }, '64'], [{}, '64,128,256']] as const) {
      const files = bundleFor(raw);
      const runBm = file(files, 'run_bm.sh').content;
      assert.match(runBm, /SUFFIX_LEN="\$\{INPUT_LEN:-8000\}"/);
      assert.match(runBm, /OUTPUT_LEN="\$\{OUTPUT_LEN:-1000\}"/);
      assert.ok(runBm.includes(`CONCURRENCY_LIST="${list}"`), list);
      assert.ok(file(files, 'run_all.sh').content.includes(`CONCURRENCY="${list}"`), list);
      assert.doesNotMatch(runBm, /@@/);
    }
  });
});

describe('renderAsset', () => {
  it('refuses values that could break out of a shell word', () => {
    assert.throws(() => renderAsset('run_all.sh', {
      CLUSTER_ENV: '/x', VENV: '/v', SERVE_PORT: 8000, SERVED_MODEL_NAME: 'a"; rm -rf /', RESULTS_PREFIX: 'r/', CONFIG_LINES: 'a:b:c:0',
      NODE_FACTS_PREFIX: 'n/', GPU_NODES: 2, NIXL_BACKEND: 'UCX', PINNED_VERSIONS: 'ray=1', DEFAULT_CONCURRENCY: 64,
      MAX_BASE_SEED: 1, MAX_CONCURRENCY: 1, PROFILE: 'reference', ROUTER_SETTING: 'auto', ROUTER_SETTINGS: 'auto',
      ROUTER_SUFFIXES: 'a:', AUTO_ROUTERS: 'random:a', RESULTS_DIR: '/r', SERVE_PREFIX: 'serve/',
    }), /unsafe value for SERVED_MODEL_NAME/);
  });

  it('refuses a template whose placeholders have no value', () => {
    assert.throws(() => renderAsset('run_all.sh', {}), /no value for/);
  });
});
