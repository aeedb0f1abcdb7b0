import { PUBLISHED_RESULTS, REFERENCE_EXAMPLE } from '../catalog/reference-example';
import type { ClusterConfig } from '../config/cluster-config';
import type { BenchmarkEstimate } from '../cost/report';
import { SERVE_CONFIG_IDS } from '../serve/configs';
import { DEFAULT_CONCURRENCY, PROMPTS_PER_CONCURRENCY } from '../serve/workloads';

/** Minutes per configuration besides the sweep: engine start with the weights already on NVMe, smoke, shutdown. */
export const PER_CONFIGURATION_OVERHEAD_MINUTES = { deploy: 8, smokeAndShutdown: 2 } as const;

/**
 * How long one full `run_all.sh` takes, for the cost review, or undefined when no measured rate applies. The only
 * measured rates are the reference example's, for its model on its hardware; for anything else this tool has no
 * basis and says so rather than quote them.
 */
export function estimateBenchmarkRun(config: Pick<ClusterConfig, 'model' | 'gpuInstanceType'>): BenchmarkEstimate | undefined {
  if (config.model !== REFERENCE_EXAMPLE.model || config.gpuInstanceType !== REFERENCE_EXAMPLE.gpuInstanceType) return undefined;
  const slowest = PUBLISHED_RESULTS.reduce((a, b) => (b.requestThroughput < a.requestThroughput ? b : a));
  const configurations = SERVE_CONFIG_IDS.length;
  const prompts = DEFAULT_CONCURRENCY * PROMPTS_PER_CONCURRENCY;
  const sweepMinutes = prompts / slowest.requestThroughput / 60;
  const { deploy, smokeAndShutdown } = PER_CONFIGURATION_OVERHEAD_MINUTES;
  const hours = (configurations * (deploy + smokeAndShutdown + sweepMinutes)) / 60;
  return {
    estimatedHours: Math.round(hours * 100) / 100,
    basis: `${configurations} configurations × (${deploy} min deploy + ${smokeAndShutdown} min smoke/shutdown + ` +
      `${sweepMinutes.toFixed(1)} min for ${prompts} requests at ${slowest.requestThroughput} req/s, the slowest rate ` +
      `the reference example (${REFERENCE_EXAMPLE.name}) measured: ${slowest.title}, ${REFERENCE_EXAMPLE.model} at ` +
      `TP=${REFERENCE_EXAMPLE.tensorParallelSize} on ${REFERENCE_EXAMPLE.gpuNodes}× ${REFERENCE_EXAMPLE.gpuInstanceType}); ` +
      'excludes the deploy and bootstrap',
  };
}
