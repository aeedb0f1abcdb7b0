import { PUBLISHED_RESULTS, REFERENCE_EXAMPLE } from '../catalog/reference-example';
import type { ClusterConfig } from '../config/cluster-config';
import type { BenchmarkEstimate } from '../cost/report';
import { serveConfigs } from '../serve/configs';
import { defaultConcurrencies } from '../study/layouts';
import { PROMPTS_PER_CONCURRENCY } from '../study/workloads';

/** Minutes per deploy besides the benchmark itself: engine start with the weights already on NVMe, smoke, shutdown. */
export const PER_CONFIGURATION_OVERHEAD_MINUTES = { deploy: 8, smokeAndShutdown: 2 } as const;

/**
 * How long the default `run_all.sh` takes (every configuration of the profile, the random workload, the profile's
 * concurrency sweep, one deploy per point: the default cache policy `redeploy`), for the cost review; undefined when
 * no measured rate applies. The only measured rates are the reference example's, for its model on its hardware; for
 * anything else this tool has no basis and says so rather than quote them. Larger layouts serve faster than the
 * example's slowest rate, so for them this is an upper bound.
 */
export function estimateBenchmarkRun(config: ClusterConfig): BenchmarkEstimate | undefined {
  if (config.model !== REFERENCE_EXAMPLE.model || config.gpuInstanceType !== REFERENCE_EXAMPLE.gpuInstanceType) return undefined;
  const slowest = PUBLISHED_RESULTS.reduce((a, b) => (b.requestThroughput < a.requestThroughput ? b : a));
  const configurations = serveConfigs(config).length;
  const points = defaultConcurrencies(config);
  const prompts = points.reduce((sum, c) => sum + c * PROMPTS_PER_CONCURRENCY, 0);
  const sweepMinutes = prompts / slowest.requestThroughput / 60;
  const { deploy, smokeAndShutdown } = PER_CONFIGURATION_OVERHEAD_MINUTES;
  const hours = (configurations * (points.length * (deploy + smokeAndShutdown) + sweepMinutes)) / 60;
  return {
    estimatedHours: Math.round(hours * 100) / 100,
    basis: `${configurations} configurations × (${points.length} point(s), concurrency ${points.join(', ')}, each on its own deploy: ` +
      `${deploy} min deploy + ${smokeAndShutdown} min smoke/shutdown, + ${sweepMinutes.toFixed(1)} min for ${prompts} requests at ` +
      `${slowest.requestThroughput} req/s, the slowest rate the reference example (${REFERENCE_EXAMPLE.name}) measured: ` +
      `${slowest.title}, ${REFERENCE_EXAMPLE.model} at TP=${REFERENCE_EXAMPLE.tensorParallelSize} on ${slowest.gpus} GPUs of ` +
      `${REFERENCE_EXAMPLE.gpuNodes}× ${REFERENCE_EXAMPLE.gpuInstanceType}; an upper bound for layouts of more GPUs); ` +
      'excludes the deploy and bootstrap',
  };
}
