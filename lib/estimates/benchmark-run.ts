import { PUBLISHED_RESULTS, REFERENCE_EXAMPLE } from '../catalog/reference-example';
import type { ClusterConfig } from '../config/cluster-config';
import type { BenchmarkEstimate } from '../cost/report';
import { serveConfigs } from '../serve/configs';
import { defaultConcurrencies } from '../study/layouts';
import { PROMPTS_PER_CONCURRENCY } from '../study/workloads';

/**
 * Minutes per benchmark point besides its requests, with the default cache policy `redeploy` (a fresh `serve deploy`
 * of the configuration per point): the engines start with the weights already on the node's NVMe, then the smoke
 * test, and the shutdown that frees the GPUs. Estimates: nothing here was timed on a p5.
 */
export const PER_POINT_OVERHEAD_MINUTES = { serveDeploy: 8, smokeAndShutdown: 2 } as const;

/**
 * How long the default `run_all.sh` takes (every configuration of the profile, the random workload, the profile's
 * concurrency sweep, a fresh `serve deploy` per point: the default cache policy `redeploy`), for the cost review;
 * undefined when no measured rate applies. The only measured rates are the reference example's, for its model on its
 * hardware; for anything else this tool has no basis and says so rather than quote them. Larger layouts serve faster
 * than the example's slowest rate, so for them this is an upper bound. The basis reads as the arithmetic it is, from
 * the configurations to the hours, so a reader can redo it; "deploy" in it is only ever `serve deploy`, never the
 * cluster's `cdk deploy`, which it does not count.
 */
export function estimateBenchmarkRun(config: ClusterConfig): BenchmarkEstimate | undefined {
  if (config.model !== REFERENCE_EXAMPLE.model || config.gpuInstanceType !== REFERENCE_EXAMPLE.gpuInstanceType) return undefined;
  const slowest = PUBLISHED_RESULTS.reduce((a, b) => (b.requestThroughput < a.requestThroughput ? b : a));
  const configurations = serveConfigs(config).length;
  const points = defaultConcurrencies(config);
  const prompts = points.reduce((sum, c) => sum + c * PROMPTS_PER_CONCURRENCY, 0);
  const sweepMinutes = prompts / slowest.requestThroughput / 60;
  const { serveDeploy, smokeAndShutdown } = PER_POINT_OVERHEAD_MINUTES;
  const minutes = configurations * (points.length * (serveDeploy + smokeAndShutdown) + sweepMinutes);
  const hours = Math.round((minutes / 60) * 100) / 100;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return {
    estimatedHours: hours,
    basis: `${hours} h ≈ ${plural(configurations, 'configuration')} × (${plural(points.length, 'point')} × (${serveDeploy} min \`serve deploy\` ` +
      `+ ${smokeAndShutdown} min smoke test and shutdown) + ${sweepMinutes.toFixed(2)} min of requests) = ${minutes.toFixed(2)} min. ` +
      `Points: concurrency ${points.join(', ')}, each on a fresh \`serve deploy\` (run_all.sh's default cache policy, redeploy); ` +
      `its ${serveDeploy} min (engines starting with the weights on NVMe) and the ${smokeAndShutdown} min are estimates. ` +
      `Requests: ${prompts} per configuration (${PROMPTS_PER_CONCURRENCY} × concurrency, summed over the points) at ` +
      `${slowest.requestThroughput} req/s, the slowest rate the reference example (${REFERENCE_EXAMPLE.name}) measured: ` +
      `${slowest.title}, ${REFERENCE_EXAMPLE.model} at TP=${REFERENCE_EXAMPLE.tensorParallelSize} on ${slowest.gpus} GPUs of ` +
      `${REFERENCE_EXAMPLE.gpuNodes}× ${REFERENCE_EXAMPLE.gpuInstanceType}; an upper bound for layouts of more GPUs. ` +
      'Not counted: the cluster\'s `cdk deploy` and node bootstrap before it (docs/deploy-time.md)',
  };
}
