import { GPU_INSTANCES } from '../catalog/instances';
import { INSTANCE_PRICE_SOURCE, INSTANCE_PRICES } from '../catalog/prices';
import { PUBLISHED_RESULTS } from '../catalog/reference-example';
import { parseClusterConfig } from '../config/cluster-config';
import { serveConfigs } from '../serve/configs';
import { clusterGpus, describeLayout, layoutGpus, PROFILES, Profile } from '../study/layouts';
import { routerFor } from '../study/routers';
import type { ResultLayout } from './results';

/** The reference example names its result folders differently (gptoss-tp4-baseline…): its names, read as ours. */
export function canonicalExperiment(name: string): string {
  return PUBLISHED_RESULTS.find((r) => r.publishedExperiment === name)?.experiment ?? name;
}

export function isProfile(name: string): name is Profile {
  return (PROFILES as readonly string[]).includes(name);
}

/**
 * Layouts by experiment for results that carry none (no sidecar): those the profile gives the default cluster in
 * `region`. Only the router is not knowable afterwards for `auto`: it follows the workload, as run_all.sh does.
 */
export function profileLayouts(profile: Profile, region: string | undefined, workloadOf: (mode: string) => 'random' | 'prefix-reuse'): (experiment: string, mode: string) => ResultLayout | undefined {
  const config = parseClusterConfig({ profile, ...(region === undefined ? {} : { region }) });
  const specs = serveConfigs(config);
  return (experiment, mode) => {
    const spec = specs.find((s) => s.experiment === experiment);
    if (spec === undefined) return undefined;
    return {
      gpus: layoutGpus(spec.layout),
      clusterGpus: clusterGpus(config),
      layout: describeLayout(spec.layout),
      router: routerFor(config.requestRouter, workloadOf(mode)),
      gpuInstanceType: config.gpuInstanceType,
      region: config.region,
      profile,
      source: `profile ${profile}`,
    };
  };
}

export interface GpuPrice {
  readonly gpuInstanceType: string;
  readonly region: string;
  readonly instanceHourUsd: number;
  readonly gpuHourUsd: number;
  readonly source: string;
}

/** On-demand price of one GPU-hour of an instance type in a region (the cost review's table), or undefined. */
export function gpuHourPrice(gpuInstanceType: string, region: string): GpuPrice | undefined {
  const byRegion = Object.prototype.hasOwnProperty.call(INSTANCE_PRICES, gpuInstanceType) ? INSTANCE_PRICES[gpuInstanceType] : undefined;
  const hourly = byRegion !== undefined && Object.prototype.hasOwnProperty.call(byRegion, region) ? byRegion[region] : undefined;
  const gpus = Object.prototype.hasOwnProperty.call(GPU_INSTANCES, gpuInstanceType) ? GPU_INSTANCES[gpuInstanceType].gpus : undefined;
  if (hourly === undefined || gpus === undefined || !(hourly > 0)) return undefined;
  return {
    gpuInstanceType, region, instanceHourUsd: hourly, gpuHourUsd: hourly / gpus,
    source: `${INSTANCE_PRICE_SOURCE.source} (as of ${INSTANCE_PRICE_SOURCE.asOf})`,
  };
}
