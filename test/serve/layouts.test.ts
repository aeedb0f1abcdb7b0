import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GPU_INSTANCES } from '../../lib/catalog/instances';
import { PUBLISHED_RESULTS } from '../../lib/catalog/reference-example';
import { parseClusterConfig } from '../../lib/config/cluster-config';
import { ConfigError } from '../../lib/config/errors';
import { estimateBenchmarkRun } from '../../lib/estimates/benchmark-run';
import { defaultConcurrencies, layoutGpus, layoutsOf } from '../../lib/study/layouts';
import { ALL_IDS, bundleFor, file, Json, llmConfigs, REFERENCE_IDS, yamlFiles, yamlOf } from './helpers';

function problems(raw: Record<string, unknown>): string[] {
  try {
    parseClusterConfig(raw);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return [...err.problems];
  }
  assert.fail(`expected ${JSON.stringify(raw)} to be rejected`);
}

/** GPUs a Serve file asks for: replicas × TP of every engine deployment. */
function gpusOf(doc: Json): number {
  return Object.values(llmConfigs(doc)).reduce((sum: number, cfg: Json) => sum + cfg.deployment_config.num_replicas * cfg.engine_kwargs.tensor_parallel_size, 0);
}

const CLUSTERS: Record<string, unknown>[] = [
  {}, { gpuNodes: 3 }, { gpuNodes: 4 }, { gpuNodes: 5, tensorParallelSize: 2 }, { gpuInstanceType: 'p5en.48xlarge', region: 'us-east-2', gpuNodes: 3 },
  { tensorParallelSize: 8 }, { prefillTensorParallelSize: 2, decodeTensorParallelSize: 8, gpuNodes: 3 },
];

describe('layouts', () => {
  it('full-cluster (the default) uses every GPU of the cluster in every configuration, so all compare at equal GPU count', () => {
    for (const raw of CLUSTERS) {
      const config = parseClusterConfig(raw);
      const cluster = config.gpuNodes * GPU_INSTANCES[config.gpuInstanceType].gpus;
      const files = bundleFor(raw);
      for (const path of yamlFiles(ALL_IDS)) {
        assert.equal(gpusOf(yamlOf(files, path)), cluster, `${JSON.stringify(raw)} ${path}`);
        const record = JSON.parse(file(files, path.replace('.yaml', '.layout.json')).content);
        assert.equal(record.gpus, cluster, path);
        assert.equal(record.clusterGpus, cluster, path);
        assert.equal(record.gpuInstanceType, config.gpuInstanceType);
        assert.equal(record.region, config.region);
      }
    }
  });

  it('full-cluster on 2 × p5.48xlarge: 4 × TP4 collocated, 2P2D TP4, swept at 64, 128 and 256', () => {
    const config = parseClusterConfig({});
    const { collocated, pd } = layoutsOf(config);
    assert.deepEqual(collocated.engine, { replicas: 4, tensorParallelSize: 4 });
    assert.deepEqual([pd.prefill, pd.decode], [{ replicas: 2, tensorParallelSize: 4 }, { replicas: 2, tensorParallelSize: 4 }]);
    assert.deepEqual(defaultConcurrencies(config), [64, 128, 256]);
    assert.deepEqual(defaultConcurrencies(parseClusterConfig({ gpuNodes: 3 })), [64, 128, 256, 384], '6 collocated replicas × 64');
  });

  it('reference reproduces the example: its four configurations only, 1 × TP4 and 1P1D TP4, the GPU counts it published, concurrency 64', () => {
    const files = bundleFor({ profile: 'reference' });
    assert.deepEqual(files.filter((f) => f.path.endsWith('.yaml')).map((f) => f.path).sort(), yamlFiles(REFERENCE_IDS).sort());
    for (const published of PUBLISHED_RESULTS) {
      const id = published.experiment.replace(/-/g, '_');
      const doc = yamlOf(files, `${id}.yaml`);
      assert.equal(gpusOf(doc), published.gpus, id);
      assert.equal(JSON.parse(file(files, `${id}.layout.json`).content).clusterGpus, 16, 'the other GPUs sit idle');
    }
    const config = parseClusterConfig({ profile: 'reference' });
    assert.equal(layoutGpus(layoutsOf(config).collocated), 4);
    assert.equal(layoutGpus(layoutsOf(config).pd), 8);
    assert.deepEqual(defaultConcurrencies(config), [64]);
  });

  it('rejects a layout setting with profile=reference, naming the setting and what the profile fixes', () => {
    assert.deepEqual(problems({ profile: 'reference', decodeReplicas: 2 }), [
      "invalid setting decodeReplicas=2: profile=reference fixes every layout to the reference example's " +
      '(anyscale/ray-serve-llm-perf-examples, pd+kv_offloading: 1 × TP4 collocated, 1P × TP4 + 1D × TP4 PD); leave ' +
      'decodeReplicas unset, or use profile=full-cluster for your own layout',
    ]);
    assert.match(problems({ profile: 'fastest' })[0], /^invalid setting profile=fastest: must be one of full-cluster, reference$/);
    // Restating the reference value is not a change: the construct passes a parsed configuration back as props.
    const parsed = parseClusterConfig({ profile: 'reference' });
    assert.deepEqual(parseClusterConfig({ ...parsed }), parsed);
  });

  it('rejects layouts the cluster does not fit, with what is allowed', () => {
    assert.deepEqual(problems({ collocatedReplicas: 5 }), ['invalid setting collocatedReplicas=5: 5 replicas × TP4 need 20 GPUs, ' +
      'but 2 × p5.48xlarge hold 4 replicas of TP4 (2 per 8-GPU node; a replica never spans nodes): at most 4']);
    assert.deepEqual(problems({ decodeReplicas: 3 }), ['invalid setting decodeReplicas=3: 3 decode replicas × TP4 need 2 ' +
      'p5.48xlarge nodes, but prefill (2 × TP4) takes 1 of the 2 nodes, and decode may not share them (every KV cache must ' +
      'cross EFA): at most 2 with this prefill']);
    assert.match(problems({ prefillReplicas: 4, decodeReplicas: 1 })[0], /^invalid setting prefillReplicas=4: 4 prefill replicas × TP4 need 2 p5\.48xlarge nodes, leaving none of the 2 for decode .*at most 2$/);
    assert.deepEqual(problems({ prefillTensorParallelSize: 3 }), ['invalid setting prefillTensorParallelSize=3: must divide the 8 GPUs per p5.48xlarge node (allowed: 1, 2, 4, 8)']);
    assert.deepEqual(problems({ tensorParallelSize: 3 }), ['invalid setting tensorParallelSize=3: must divide the 8 GPUs per p5.48xlarge node (allowed: 1, 2, 4, 8)'],
      'the sides inherit it: one mistake, one message');
    // 1P2D on two nodes is allowed (prefill on one node, decode on the other), though it leaves GPUs idle.
    assert.equal(parseClusterConfig({ prefillReplicas: 1, decodeReplicas: 2 }).prefillReplicas, 1);
  });

  it('estimates the default run from the profile: five configurations × three points, or the example\'s four at 64', () => {
    const full = estimateBenchmarkRun(parseClusterConfig({}));
    const ref = estimateBenchmarkRun(parseClusterConfig({ profile: 'reference' }));
    assert.ok(full !== undefined && ref !== undefined);
    // 5 × (3 × 10 min + (320 + 640 + 1280) / 2.76 / 60 min) and 4 × (10 + 320 / 2.76 / 60)
    assert.equal(full.estimatedHours, Math.round(5 * (30 + 2240 / 2.76 / 60) / 60 * 100) / 100);
    assert.equal(ref.estimatedHours, Math.round(4 * (10 + 320 / 2.76 / 60) / 60 * 100) / 100);
    assert.match(full.basis, /^3\.63 h ≈ 5 configurations × \(3 points × .*Points: concurrency 64, 128, 256,/);
  });
});
