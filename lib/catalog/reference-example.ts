/**
 * The upstream reference this project reproduces, and the figures it published: one home for them, so every
 * number the tool quotes from it says where it came from and for which model and hardware it holds.
 */
export const REFERENCE_EXAMPLE = {
  name: 'anyscale/ray-serve-llm-perf-examples, pd+kv_offloading',
  url: 'https://github.com/anyscale/ray-serve-llm-perf-examples/tree/main/pd%2Bkv_offloading',
  model: 'openai/gpt-oss-120b',
  gpuInstanceType: 'p5.48xlarge',
  gpuNodes: 2,
  tensorParallelSize: 4,
  /**
   * Its layouts (collocated_*.yaml: one replica; pd_*.yaml: 1P1D), each replica at tensorParallelSize: 4 GPUs
   * collocated, 8 for PD, on a cluster of gpuNodes × 8 GPUs.
   */
  layouts: { collocatedReplicas: 1, prefillReplicas: 1, decodeReplicas: 1 },
  /** Its result files: 320 requests of 8000 input and 1000 output tokens at concurrency 64. */
  workload: { inputTokens: 8000, outputTokens: 1000, concurrency: 64, requests: 320 },
} as const;

export interface PublishedResult {
  /** The experiment name this project gives the configuration (run_bm.sh's results folder). */
  readonly experiment: string;
  /** The experiment name in the example's own results folders (`bm_results/gptoss_itl8000_otl1000_mixed_<name>/`). */
  readonly publishedExperiment: string;
  /** Which of the example's layouts (REFERENCE_EXAMPLE.layouts) the configuration ran on. */
  readonly kind: 'collocated' | 'pd';
  readonly title: string;
  /** GPUs the configuration used: one TP=4 replica collocated, one prefill + one decode replica for PD. */
  readonly gpus: number;
  readonly requestThroughput: number;
  readonly outputThroughput: number;
  readonly meanTtftMs: number;
  readonly meanTpotMs: number;
}

/** The table in its README (request and output throughput, mean TTFT and TPOT at concurrency 64). */
export const PUBLISHED_RESULTS: readonly PublishedResult[] = [
  { experiment: 'collocated-baseline', publishedExperiment: 'gptoss-tp4-baseline', kind: 'collocated', title: 'Collocated baseline', gpus: 4, requestThroughput: 3.09, outputThroughput: 3092.52, meanTtftMs: 1858.70, meanTpotMs: 18.78 },
  { experiment: 'collocated-lmcache', publishedExperiment: 'gptoss-tp4-lmcache', kind: 'collocated', title: 'Collocated + LMCache', gpus: 4, requestThroughput: 2.76, outputThroughput: 2759.43, meanTtftMs: 2603.58, meanTpotMs: 20.53 },
  { experiment: 'pd-nixl', publishedExperiment: 'gptoss-1p1d-nixl', kind: 'pd', title: 'PD + NIXL', gpus: 8, requestThroughput: 4.35, outputThroughput: 4354.03, meanTtftMs: 1217.11, meanTpotMs: 12.83 },
  { experiment: 'pd-multiconnector', publishedExperiment: 'gptoss-1p1d-nixl-lmcache', kind: 'pd', title: 'PD + MultiConnector (NIXL + LMCache)', gpus: 8, requestThroughput: 3.70, outputThroughput: 3697.97, meanTtftMs: 1481.06, meanTpotMs: 15.20 },
];
