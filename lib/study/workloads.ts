/**
 * The benchmark workloads run_bm.sh knows. Their token counts are rendered into the script's defaults and checked
 * against max_model_len, so the two cannot drift apart.
 */
export interface Workload {
  /** The `<mode>` part of the results folder name; never contains `_`. */
  readonly mode: string;
  readonly description: string;
  /** Shared prefix tokens per request (0 = every prompt is fresh). */
  readonly prefixLen: number;
  /** Unique tokens per request after the prefix. */
  readonly suffixLen: number;
  /** Distinct prefixes the requests cycle through. */
  readonly numPrefixes: number;
  readonly outputLen: number;
  /** Which block of SEED_BLOCK seeds this workload's points draw from (see pointSeed). Unique per workload. */
  readonly seedBlock: number;
}

/**
 * The reference example's floor (anyscale/ray-serve-llm-perf-examples, pd+kv_offloading): random prompts, no cache
 * hits. 8000 in / 1000 out is what its bm_results/<experiment>/conc64.json files show (320 requests, 2,560,000 input and
 * 320,000 output tokens), not the 5000 / 250 its README states.
 */
export const RANDOM_WORKLOAD: Workload = {
  mode: 'mixed',
  description: 'random prompts, no prefix reuse (the no-cache-hit floor of anyscale/ray-serve-llm-perf-examples pd+kv_offloading)',
  prefixLen: 0,
  suffixLen: 8000,
  numPrefixes: 1,
  outputLen: 1000,
  seedBlock: 1,
};

/**
 * Beyond the reference example: multi-turn style reuse. 400 distinct 12,000-token prefixes are ~4.8 M tokens of KV: about 1.3×
 * what gpt-oss-120b at TP=4 keeps in H100 memory (~3.8 M tokens), yet within what LMCache's default CPU tier holds
 * (100 GB per rank ÷ ~18.4 KB per token per rank ≈ 5.4 M tokens). So a prefix that comes back has often been evicted
 * from the GPU but is still in CPU RAM: recomputed without LMCache, loaded with it. Short answers keep the run about
 * prefill and TTFT. Other models or LMCache sizes: `run_bm.sh --num-prefixes`.
 */
export const PREFIX_REUSE_WORKLOAD: Workload = {
  mode: 'prefix-reuse',
  description: 'long shared prefixes reused across requests beyond GPU KV capacity (multi-turn style)',
  prefixLen: 12000,
  suffixLen: 500,
  numPrefixes: 400,
  outputLen: 100,
  seedBlock: 2,
};

/** Each prefix is asked about this many times on average, so reuse dominates. */
export const PREFIX_REUSE_REQUESTS_PER_PREFIX = 4;

export const WORKLOADS: readonly Workload[] = [RANDOM_WORKLOAD, PREFIX_REUSE_WORKLOAD];

/**
 * Prompts per run are PROMPTS_PER_CONCURRENCY × concurrency (the reference example's 320 at 64). The default
 * concurrencies follow from the layouts: layouts.ts defaultConcurrencies.
 */
export const PROMPTS_PER_CONCURRENCY = 5;

/**
 * Seeds of the benchmark points. vLLM's prefix_repetition dataset seeds numpy once per run
 * (vllm-project/vllm, vllm/benchmarks/datasets.py, PrefixRepetitionRandomDataset.__init__) and draws prompts in
 * order, so two runs with one seed share their first prompts: a sweep that reused its seed would send the larger point
 * the exact prompts of the smaller one, straight into the prefix cache and LMCache. Under one seed the random
 * workload's first prompt also starts with the same draws as the prefix-reuse workload's first prefix (numpy draws in
 * sequence whatever the length asked for). Every point therefore gets
 * base + SEED_BLOCK × workload.seedBlock + concurrency: distinct across points and workloads, identical across the
 * serve configurations (they are compared on the same prompts) and across repeated runs of the same base.
 */
export const SEED_BLOCK = 1_000_000;
/** Concurrency stays below SEED_BLOCK so blocks never overlap. */
export const MAX_CONCURRENCY = SEED_BLOCK - 1;
/** numpy's legacy seed must fit 32 bits: the base leaves room for every block. */
export const MAX_BASE_SEED = 2 ** 32 - 1 - SEED_BLOCK * (Math.max(...WORKLOADS.map((w) => w.seedBlock)) + 1);

export function pointSeed(base: number, workload: Workload, concurrency: number): number {
  return base + SEED_BLOCK * workload.seedBlock + concurrency;
}

export function workloadTokens(w: Workload): number {
  return w.prefixLen + w.suffixLen + w.outputLen;
}
