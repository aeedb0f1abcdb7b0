import { isAbsolute } from 'path';
import { NIXL_BACKENDS } from '../config/schema';
import type { NixlBackend } from '../config/cluster-config';
import { MAX_CONCURRENCY, Workload, workloadTokens } from '../study/workloads';

/**
 * A rehearsal: the whole pipeline of the cluster (the pinned stack installed and LMCache built by the node's own
 * code, the node's checks, Ray, Ray Serve LLM deploying every serve configuration through builder.py, the benchmark
 * harness and its evidence, the report) on one Linux machine with NVIDIA GPUs, before renting p5 nodes. What it
 * cannot show (EFA, p5 timings, cross-node KV transfer) it records as such.
 */
export interface RehearsalSettings {
  /** Absolute folder on the GPU machine where the rehearsal runs (its venv, model, logs and results go there). */
  readonly dir: string;
  readonly gpus: number;
  /** What nvidia-smi calls the GPU (recorded; the rehearsal checks it on start). */
  readonly gpuName: string;
  /** `tiny`: a small Llama-architecture model with random weights made on the machine; else a local path or a Hub id. */
  readonly model: string;
  readonly servedModelName: string;
  readonly tensorParallelSize: number;
  readonly maxModelLen: number;
  /** A venv to install into (e.g. one that already holds the pinned torch); default: `<dir>/venv`, created. */
  readonly venv?: string;
  /** A folder made by `npm run wheelhouse`: install with no network. */
  readonly wheelhouse?: string;
  readonly concurrencies: readonly number[];
  readonly workloads: { readonly random: Workload; readonly prefixReuse: Workload };
  readonly requestsPerPrefix: number;
  readonly promptsPerConcurrency: number;
  /**
   * Each engine's KV cache, MiB (vLLM's kv_cache_memory_bytes); undefined: vLLM sizes it from gpu_memory_utilization.
   * Smaller than the prefix-reuse workload's prefixes, so prefixes leave the GPU and LMCache can serve them back.
   */
  readonly kvCacheMiB?: number;
  readonly lmcacheCpuGbPerRank: number;
  readonly nixlBackend: NixlBackend;
  /** A prometheus binary for the evidence; undefined: looked up on PATH at run time, evidence missing without one. */
  readonly prometheus?: string;
}

/**
 * The model a rehearsal makes when none is named (make_tiny_model.py): Llama architecture, random weights, a byte-level
 * BPE tokenizer trained on the machine. Its KV cache takes layers × 2 × KV heads × head dim × 2 bytes per token.
 */
export const TINY_MODEL = {
  name: 'tiny',
  vocabSize: 4096,
  hiddenSize: 256,
  intermediateSize: 512,
  layers: 4,
  attentionHeads: 4,
  kvHeads: 4,
  headDim: 64,
  maxPositionEmbeddings: 4096,
  seed: 20261204,
} as const;

export const TINY_MODEL_KV_BYTES_PER_TOKEN = TINY_MODEL.layers * 2 * TINY_MODEL.kvHeads * TINY_MODEL.headDim * 2;

/** Short workloads: the rehearsal proves the pipeline runs, in minutes; it measures nothing worth comparing. */
export const REHEARSAL_WORKLOADS: RehearsalSettings['workloads'] = {
  random: {
    mode: 'mixed',
    description: 'random prompts, no prefix reuse (rehearsal size)',
    prefixLen: 0, suffixLen: 512, numPrefixes: 1, outputLen: 64, seedBlock: 1,
  },
  prefixReuse: {
    mode: 'prefix-reuse',
    description: 'shared prefixes reused across requests, more of them than the GPU KV cache holds (rehearsal size)',
    prefixLen: 1024, suffixLen: 64, numPrefixes: 32, outputLen: 16, seedBlock: 2,
  },
};

/**
 * The tiny model's KV cache per engine: 64 MiB = 16,384 tokens at 4 KiB a token. It holds the concurrent requests
 * (8 × 1,104 tokens of the prefix-reuse workload: on one H200, a cache of 8,192 tokens that could not hold them stalled
 * that workload), but not the workload's 32 prefixes of 1,024 tokens (32,768 tokens): a prefix that comes back has
 * often left the GPU, so it is recomputed without LMCache and loaded from LMCache's CPU tier with it.
 */
export const TINY_MODEL_KV_CACHE_MIB = 64;

export const REHEARSAL_DEFAULTS = {
  model: TINY_MODEL.name,
  servedModelName: 'rehearsal',
  tensorParallelSize: 1,
  maxModelLen: 4096,
  concurrencies: [8],
  requestsPerPrefix: 4,
  promptsPerConcurrency: 5,
  lmcacheCpuGbPerRank: 4,
  nixlBackend: 'UCX' as NixlBackend,
} as const;

/** The most GPUs a rehearsal lays out (one machine). */
export const MAX_REHEARSAL_GPUS = 16;

/** One line naming the setting, the value and what is allowed, for each problem. */
export function rehearsalProblems(s: RehearsalSettings): string[] {
  const problems: string[] = [];
  const bad = (key: string, value: unknown, allowed: string) => problems.push(`${key} ${JSON.stringify(value)}: ${allowed}`);
  if (!isAbsolute(s.dir)) bad('--dir', s.dir, 'must be an absolute path on the GPU machine');
  if (!Number.isInteger(s.gpus) || s.gpus < 1 || s.gpus > MAX_REHEARSAL_GPUS) bad('--gpus', s.gpus, `must be a whole number from 1 to ${MAX_REHEARSAL_GPUS}`);
  const tp = s.tensorParallelSize;
  const gpusOk = Number.isInteger(s.gpus) && s.gpus >= 1 && s.gpus <= MAX_REHEARSAL_GPUS;
  if (!gpusOk) {
    // The TP size is judged against the GPU count; that is reported above.
  } else if (!Number.isInteger(tp) || tp < 1 || tp > s.gpus || s.gpus % tp !== 0) {
    bad('--tensor-parallel-size', tp, `must divide the machine's ${s.gpus} GPU(s) (1${s.gpus > 1 ? ` to ${s.gpus}` : ''})`);
  } else if (tp > 1 && s.gpus < 2 * tp) {
    bad('--tensor-parallel-size', tp, `leaves no GPUs for a second PD side: prefill and decode of TP ${tp} need ${2 * tp} GPUs (this machine has ${s.gpus}); TP 1 shares GPUs instead`);
  }
  if (s.model === '' || /\s/.test(s.model)) bad('--model', s.model, `must be ${TINY_MODEL.name}, a local path or a Hugging Face id, without spaces`);
  if (!/^[A-Za-z0-9.-]+$/.test(s.servedModelName)) bad('--served-model-name', s.servedModelName, 'use letters, digits, . and - only');
  for (const c of s.concurrencies) {
    if (!Number.isInteger(c) || c < 1 || c > MAX_CONCURRENCY) bad('--concurrency', s.concurrencies.join(','), `each must be a whole number from 1 to ${MAX_CONCURRENCY}`);
  }
  if (s.concurrencies.length === 0 || new Set(s.concurrencies).size !== s.concurrencies.length) bad('--concurrency', s.concurrencies.join(','), 'a comma-separated list without repeats');
  for (const w of [s.workloads.random, s.workloads.prefixReuse]) {
    if (workloadTokens(w) > s.maxModelLen) {
      bad('--max-model-len', s.maxModelLen, `must hold the ${w.mode} workload's ${workloadTokens(w)} tokens per request`);
    }
  }
  if (s.model === TINY_MODEL.name && s.maxModelLen > TINY_MODEL.maxPositionEmbeddings) {
    bad('--max-model-len', s.maxModelLen, `the tiny model has ${TINY_MODEL.maxPositionEmbeddings} positions: at most that`);
  }
  if (s.kvCacheMiB !== undefined && (!Number.isInteger(s.kvCacheMiB) || s.kvCacheMiB < 1)) bad('--kv-cache-mib', s.kvCacheMiB, 'must be a whole number of MiB, 1 or more');
  if (s.model === TINY_MODEL.name && s.kvCacheMiB !== undefined && s.kvCacheMiB * 2 ** 20 < s.maxModelLen * TINY_MODEL_KV_BYTES_PER_TOKEN) {
    bad('--kv-cache-mib', s.kvCacheMiB, `must hold one max_model_len request (${s.maxModelLen} tokens × ${TINY_MODEL_KV_BYTES_PER_TOKEN} bytes = ${Math.ceil(s.maxModelLen * TINY_MODEL_KV_BYTES_PER_TOKEN / 2 ** 20)} MiB), as vLLM requires`);
  }
  const kvMiB = s.kvCacheMiB ?? (s.model === TINY_MODEL.name ? TINY_MODEL_KV_CACHE_MIB : undefined);
  if (s.model === TINY_MODEL.name && kvMiB !== undefined && Number.isInteger(kvMiB)) {
    const kvTokens = Math.floor(kvMiB * 2 ** 20 / TINY_MODEL_KV_BYTES_PER_TOKEN);
    const perRequest = Math.max(workloadTokens(s.workloads.random), workloadTokens(s.workloads.prefixReuse));
    const need = Math.max(...s.concurrencies.filter(Number.isInteger)) * perRequest;
    const prefixes = s.workloads.prefixReuse.numPrefixes * s.workloads.prefixReuse.prefixLen;
    if (kvTokens < need) {
      bad('--kv-cache-mib', kvMiB, `holds ${kvTokens} tokens, fewer than the ${need} of ${Math.max(...s.concurrencies)} concurrent requests of ${perRequest} tokens: the engine would thrash; at least ${Math.ceil(need * TINY_MODEL_KV_BYTES_PER_TOKEN / 2 ** 20)}`);
    } else if (kvTokens >= prefixes) {
      bad('--kv-cache-mib', kvMiB, `holds all ${prefixes} tokens of the prefix-reuse workload's prefixes: no prefix would leave the GPU and LMCache would never be asked; less than ${Math.floor(prefixes * TINY_MODEL_KV_BYTES_PER_TOKEN / 2 ** 20)}`);
    }
  }
  if (!Number.isInteger(s.lmcacheCpuGbPerRank) || s.lmcacheCpuGbPerRank < 1) bad('--lmcache-cpu-gb', s.lmcacheCpuGbPerRank, 'must be a whole number of GB, 1 or more');
  if (!(NIXL_BACKENDS as readonly string[]).includes(s.nixlBackend)) bad('--nixl-backend', s.nixlBackend, `must be one of ${NIXL_BACKENDS.join(', ')}`);
  for (const [key, value] of [['--venv', s.venv], ['--wheelhouse', s.wheelhouse], ['--prometheus', s.prometheus]] as const) {
    if (value !== undefined && !isAbsolute(value)) bad(key, value, 'must be an absolute path on the GPU machine');
  }
  return problems;
}
