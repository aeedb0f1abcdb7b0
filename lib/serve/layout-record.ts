import type { ClusterConfig } from '../config/cluster-config';
import { EngineRole, ServeConfigSpec, ServeConfigVariant } from './configs';
import { describeLayout, groupGpus, layoutGpus, Profile } from '../study/layouts';
import { REQUEST_ROUTERS, RequestRouterName } from '../study/routers';
import type { PdPlacement, ServeTarget } from './target';

/**
 * The `layout` section of every result's sidecar (conc<N>.meta.json): what the configuration ran on, written at
 * synth beside each Serve file as `<file>.layout.json` and passed by run_all.sh to run_bm.sh with
 * `--meta-section layout=…` (bench_record.py keeps sidecar schema 1: a new section changes no existing field).
 * `npm run report` reads it for the GPU count, router and price of each result.
 */
export interface LayoutRecord {
  /** Bumped when a field below changes meaning. */
  readonly schema: typeof LAYOUT_RECORD_SCHEMA;
  readonly source: string;
  /** `rehearsal`: one machine rehearsing the pipeline (lib/rehearsal), a functional run, never performance figures. */
  readonly profile: Profile | 'rehearsal';
  readonly configuration: string;
  readonly experiment: string;
  readonly title: string;
  readonly kind: 'collocated' | 'pd';
  /** E.g. "4 × TP4" or "2P × TP4 + 2D × TP4". */
  readonly layout: string;
  /** GPUs the configuration's engine replicas use. */
  readonly gpus: number;
  /** GPUs of the whole cluster (gpuNodes × GPUs per node), idle ones included. */
  readonly clusterGpus: number;
  readonly gpuNodes: number;
  readonly gpuInstanceType: string;
  readonly gpusPerNode: number;
  /** The region the cluster was synthesized for: with gpuInstanceType, what the report prices. */
  readonly region: string;
  readonly engines: Readonly<Partial<Record<EngineRole, EngineRecord>>>;
  readonly placement: string;
  readonly router: RouterRecord;
  readonly hybridKvCacheManager: 'auto' | 'disabled';
}

export interface EngineRecord {
  readonly replicas: number;
  readonly tensorParallelSize: number;
  readonly gpus: number;
  readonly connectors: readonly string[];
}

export interface RouterRecord {
  readonly name: RequestRouterName;
  readonly title: string;
  /** null: Serve's default (PowerOfTwoChoicesRequestRouter). */
  readonly requestRouterClass: string | null;
  readonly requestRouterKwargs: Readonly<Record<string, unknown>> | null;
  /** The deployments whose handle routes with it: every engine deployment of the configuration. */
  readonly appliesTo: readonly EngineRole[];
}

export const LAYOUT_RECORD_SCHEMA = 1;

const PLACEMENT: Readonly<Record<PdPlacement, Readonly<Record<'collocated' | 'pd', string>>>> = {
  'separate-nodes': {
    collocated: 'replicas spread over the GPU nodes by Ray, each replica\'s TP ranks on one node (STRICT_PACK, builder.py)',
    pd: 'prefill and decode on disjoint GPU nodes, each replica\'s TP ranks on one node (STRICT_PACK, builder.py): every KV cache crosses EFA',
  },
  'one-node': {
    collocated: 'replicas on the one machine\'s GPUs, each replica\'s TP ranks together (STRICT_PACK, builder.py)',
    pd: 'prefill and decode on the one machine (builder.py, pd_placement one-node): on different GPUs where it has enough, ' +
      'sharing them (a fraction of each GPU and of its memory) where it has not; KV moves between two engines of one host, never over EFA',
  },
};

export function layoutRecord(config: ClusterConfig, spec: ServeConfigSpec, variant: ServeConfigVariant, target: ServeTarget): LayoutRecord {
  const router = REQUEST_ROUTERS[variant.router];
  const args = variant.document.applications[0].args;
  const roles = ('llm_config' in args ? ['llm_config'] : ['prefill_config', 'decode_config']) as EngineRole[];
  const groups: Partial<Record<EngineRole, { replicas: number; tensorParallelSize: number }>> = spec.layout.kind === 'collocated'
    ? { llm_config: spec.layout.engine } : { prefill_config: spec.layout.prefill, decode_config: spec.layout.decode };
  const engines = Object.fromEntries(roles.map((role) => {
    const g = groups[role];
    if (g === undefined) throw new Error(`${spec.id}: no layout for ${role}`);
    return [role, { replicas: g.replicas, tensorParallelSize: g.tensorParallelSize, gpus: groupGpus(g), connectors: spec.connectors[role] }];
  }));
  return {
    schema: LAYOUT_RECORD_SCHEMA,
    source: 'written by the p5-ray CDK app at synth from the cluster settings (lib/serve/layout-record.ts)',
    profile: target.kind === 'rehearsal' ? 'rehearsal' : config.profile,
    configuration: spec.id,
    experiment: spec.experiment,
    title: spec.title,
    kind: spec.layout.kind,
    layout: describeLayout(spec.layout) + (sharedGpus(spec, target) ? ` sharing ${target.machine.clusterGpus} GPU(s)` : ''),
    gpus: occupiedGpus(spec, target),
    clusterGpus: target.machine.clusterGpus,
    gpuNodes: target.machine.gpuNodes,
    gpuInstanceType: target.machine.gpuInstanceType,
    gpusPerNode: target.machine.gpusPerNode,
    region: target.machine.region,
    engines,
    placement: PLACEMENT[target.pdPlacement][spec.layout.kind],
    router: {
      name: variant.router,
      title: router.title,
      requestRouterClass: router.requestRouterClass ?? null,
      requestRouterKwargs: router.requestRouterKwargs === undefined ? null : { ...router.requestRouterKwargs },
      appliesTo: roles,
    },
    hybridKvCacheManager: spec.hybridKvCacheManager,
  };
}

/** GPUs the configuration occupies: engines that share GPUs (a rehearsal with too few) occupy the machine's, not one each. */
export function occupiedGpus(spec: ServeConfigSpec, target: ServeTarget): number {
  return Math.min(layoutGpus(spec.layout), target.machine.clusterGpus);
}

/** Whether the layout's engines need more GPUs than the machine has, so builder.py makes them share (one-node only). */
export function sharedGpus(spec: ServeConfigSpec, target: ServeTarget): boolean {
  return target.pdPlacement === 'one-node' && layoutGpus(spec.layout) > target.machine.clusterGpus;
}

/** `pd_nixl.prefix-aware.yaml` → `pd_nixl.prefix-aware.layout.json`. */
export function layoutRecordFile(yamlFile: string): string {
  return yamlFile.replace(/\.yaml$/, '.layout.json');
}
