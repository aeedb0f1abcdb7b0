import type { ClusterConfig } from '../config/cluster-config';
import { SERVE_CONFIG_IDS } from '../serve/configs';
import { DEFAULT_CONCURRENCY, PROMPTS_PER_CONCURRENCY } from '../serve/workloads';

/**
 * How long one full `run_all.sh` takes, for the cost review: per configuration a deploy (vLLM engine start,
 * weights already on the NVMe cache), a smoke request, the sweep, and a shutdown. The sweep time comes from the
 * brief's slowest measured throughput (collocated + LMCache, 2.76 req/s for 8000-in/1000-out requests on
 * 2x p5.48xlarge with gpt-oss-120b); other models and instance types will differ.
 */
export const BENCHMARK_ASSUMPTIONS = {
  configurations: SERVE_CONFIG_IDS.length,
  concurrency: DEFAULT_CONCURRENCY,
  promptsPerConcurrency: PROMPTS_PER_CONCURRENCY,
  slowestRequestsPerSecond: 2.76,
  deployMinutes: 8,
  smokeAndShutdownMinutes: 2,
} as const;

export interface BenchmarkEstimate {
  readonly estimatedHours: number;
  readonly basis: string;
}

export function estimateBenchmarkRun(config: ClusterConfig): BenchmarkEstimate {
  const a = BENCHMARK_ASSUMPTIONS;
  const prompts = a.concurrency * a.promptsPerConcurrency;
  const sweepMinutes = prompts / a.slowestRequestsPerSecond / 60;
  const perConfigMinutes = a.deployMinutes + a.smokeAndShutdownMinutes + sweepMinutes;
  const hours = (a.configurations * perConfigMinutes) / 60;
  return {
    estimatedHours: Math.round(hours * 100) / 100,
    basis: `${a.configurations} configurations × (${a.deployMinutes} min deploy + ${a.smokeAndShutdownMinutes} min smoke/shutdown + ` +
      `${sweepMinutes.toFixed(1)} min for ${prompts} requests at ${a.slowestRequestsPerSecond} req/s, the brief's slowest ` +
      `measured rate for ${config.model} on 2x p5.48xlarge); excludes the ~30 min deploy/bootstrap`,
  };
}
