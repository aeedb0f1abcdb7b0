import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  REHEARSAL_DEFAULTS, REHEARSAL_WORKLOADS, RehearsalSettings, TINY_MODEL, TINY_MODEL_KV_BYTES_PER_TOKEN, TINY_MODEL_KV_CACHE_MIB,
  pdSharesGpus, rehearsalLayouts, rehearsalProblems,
} from '../../lib/rehearsal';

const base: RehearsalSettings = {
  ...REHEARSAL_DEFAULTS, concurrencies: [...REHEARSAL_DEFAULTS.concurrencies], dir: '/srv/rehearsal', gpus: 1, gpuName: 'NVIDIA H200',
  workloads: REHEARSAL_WORKLOADS,
};
const problems = (over: Partial<RehearsalSettings>) => rehearsalProblems({ ...base, ...over });

describe('rehearsal settings', () => {
  it('accepts the defaults on one GPU and on eight', () => {
    assert.deepEqual(problems({}), []);
    assert.deepEqual(problems({ gpus: 8 }), []);
  });

  it('sizes the tiny model\'s KV cache between the concurrent requests and the prefixes, so LMCache is asked and nothing thrashes', () => {
    const kvTokens = TINY_MODEL_KV_CACHE_MIB * 2 ** 20 / TINY_MODEL_KV_BYTES_PER_TOKEN;
    const w = REHEARSAL_WORKLOADS.prefixReuse;
    assert.ok(kvTokens >= Math.max(...base.concurrencies) * (w.prefixLen + w.suffixLen + w.outputLen));
    assert.ok(kvTokens < w.numPrefixes * w.prefixLen);
    // The 32 MiB (8,192 tokens) the first H200 run used: the prefix-reuse workload stalled.
    assert.match(problems({ kvCacheMiB: 32 }).join('\n'), /^--kv-cache-mib 32: holds 8192 tokens, fewer than the 8832 of 8 concurrent requests of 1104 tokens: the engine would thrash; at least 35$/m);
    assert.match(problems({ kvCacheMiB: 256 }).join('\n'), /--kv-cache-mib 256: holds all 32768 tokens of the prefix-reuse workload's prefixes: no prefix would leave the GPU/);
    assert.match(problems({ concurrencies: [16] }).join('\n'), /fewer than the 17664 of 16 concurrent requests/);
    // Another model sizes its own KV cache: no rule about the tiny one.
    assert.deepEqual(problems({ model: '/models/llama', kvCacheMiB: 32 }), []);
  });

  it('names the setting, the value and what is allowed for each bad value', () => {
    assert.deepEqual(problems({ dir: 'rehearsal' }), ['--dir "rehearsal": must be an absolute path on the GPU machine']);
    assert.deepEqual(problems({ gpus: 0 }), ['--gpus 0: must be a whole number from 1 to 16']);
    assert.deepEqual(problems({ gpus: 2, tensorParallelSize: 2 }), ['--tensor-parallel-size 2: leaves no GPUs for a second PD side: prefill and decode of TP 2 need 4 GPUs (this machine has 2); TP 1 shares GPUs instead']);
    assert.deepEqual(problems({ gpus: 6, tensorParallelSize: 4 }), ['--tensor-parallel-size 4: must divide the machine\'s 6 GPU(s) (1 to 6)']);
    assert.deepEqual(problems({ maxModelLen: 8192 }), [`--max-model-len 8192: the tiny model has ${TINY_MODEL.maxPositionEmbeddings} positions: at most that`]);
    assert.deepEqual(problems({ maxModelLen: 1000 }), ['--max-model-len 1000: must hold the prefix-reuse workload\'s 1104 tokens per request']);
    assert.deepEqual(problems({ concurrencies: [8, 8] }), ['--concurrency "8,8": a comma-separated list without repeats']);
    assert.deepEqual(problems({ venv: 'venv' }), ['--venv "venv": must be an absolute path on the GPU machine']);
    assert.deepEqual(problems({ nixlBackend: 'TCP' as RehearsalSettings['nixlBackend'] }), ['--nixl-backend "TCP": must be one of UCX, LIBFABRIC']);
  });

  it('lays out one replica per TP group collocated, and PD on separate GPUs from two groups on, sharing them below', () => {
    assert.deepEqual(rehearsalLayouts({ gpus: 1, tensorParallelSize: 1 }), {
      collocated: { kind: 'collocated', engine: { replicas: 1, tensorParallelSize: 1 } },
      pd: { kind: 'pd', prefill: { replicas: 1, tensorParallelSize: 1 }, decode: { replicas: 1, tensorParallelSize: 1 } },
    });
    assert.equal(pdSharesGpus({ gpus: 1, tensorParallelSize: 1 }), true);
    assert.deepEqual(rehearsalLayouts({ gpus: 2, tensorParallelSize: 1 }).pd, {
      kind: 'pd', prefill: { replicas: 1, tensorParallelSize: 1 }, decode: { replicas: 1, tensorParallelSize: 1 },
    });
    assert.equal(pdSharesGpus({ gpus: 2, tensorParallelSize: 1 }), false);
    // Decode keeps the larger half, as the cluster's full-cluster profile does.
    assert.deepEqual(rehearsalLayouts({ gpus: 8, tensorParallelSize: 2 }), {
      collocated: { kind: 'collocated', engine: { replicas: 4, tensorParallelSize: 2 } },
      pd: { kind: 'pd', prefill: { replicas: 2, tensorParallelSize: 2 }, decode: { replicas: 2, tensorParallelSize: 2 } },
    });
    assert.deepEqual(rehearsalLayouts({ gpus: 3, tensorParallelSize: 1 }).pd.decode.replicas, 2);
  });
});
