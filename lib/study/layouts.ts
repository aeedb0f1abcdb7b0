import { GPU_INSTANCES } from '../catalog/instances';
import { REFERENCE_EXAMPLE } from '../catalog/reference-example';

/**
 * How many GPUs each serve configuration uses and how they are split into replicas. The two profiles of the study:
 *
 * - `reference`: the exact layouts of anyscale/ray-serve-llm-perf-examples, `pd+kv_offloading` (one TP=4 replica
 *   collocated, 1P1D TP=4 for PD), to reproduce its table. It compares 4 GPUs with 8, and leaves the other GPUs
 *   of the cluster idle.
 * - `full-cluster` (the default): every configuration uses every GPU of the cluster, so every comparison is at equal
 *   GPU count: on 2 × p5.48xlarge, 4 × TP=4 collocated and 2P2D TP=4.
 */
export const PROFILES = ['full-cluster', 'reference'] as const;
export type Profile = (typeof PROFILES)[number];

/** The settings a layout reads; a subset of ClusterConfig, so this module needs nothing from lib/config. */
export interface LayoutSettings {
  readonly profile: Profile;
  readonly gpuInstanceType: string;
  readonly gpuNodes: number;
  readonly tensorParallelSize: number;
  readonly collocatedReplicas: number;
  readonly prefillReplicas: number;
  readonly prefillTensorParallelSize: number;
  readonly decodeReplicas: number;
  readonly decodeTensorParallelSize: number;
}

/** The settings the `reference` profile fixes, and the only ones that describe a layout. */
export const LAYOUT_SETTING_KEYS = [
  'tensorParallelSize', 'collocatedReplicas', 'prefillTensorParallelSize', 'prefillReplicas', 'decodeTensorParallelSize',
  'decodeReplicas',
] as const;

/** Identical engine replicas of one deployment; each replica's TP ranks sit on one node (STRICT_PACK). */
export interface ReplicaGroup {
  readonly replicas: number;
  readonly tensorParallelSize: number;
}

export interface CollocatedLayout {
  readonly kind: 'collocated';
  readonly engine: ReplicaGroup;
}

/** Prefill and decode run on disjoint sets of GPU nodes, so every KV cache handed over crosses the network. */
export interface PdLayout {
  readonly kind: 'pd';
  readonly prefill: ReplicaGroup;
  readonly decode: ReplicaGroup;
}

export type Layout = CollocatedLayout | PdLayout;

export function groupGpus(g: ReplicaGroup): number {
  return g.replicas * g.tensorParallelSize;
}

export function layoutGpus(layout: Layout): number {
  return layout.kind === 'collocated' ? groupGpus(layout.engine) : groupGpus(layout.prefill) + groupGpus(layout.decode);
}

/** Engine replicas of every deployment of the layout (the deployments a request router spreads requests over). */
export function layoutReplicas(layout: Layout): number {
  return layout.kind === 'collocated' ? layout.engine.replicas : Math.max(layout.prefill.replicas, layout.decode.replicas);
}

/** "4 × TP4" or "2P × TP4 + 2D × TP4". */
export function describeLayout(layout: Layout): string {
  const g = (x: ReplicaGroup, tag = '') => `${x.replicas}${tag} × TP${x.tensorParallelSize}`;
  return layout.kind === 'collocated' ? g(layout.engine) : `${g(layout.prefill, 'P')} + ${g(layout.decode, 'D')}`;
}

export function gpusPerNode(settings: Pick<LayoutSettings, 'gpuInstanceType'>): number {
  const spec = Object.prototype.hasOwnProperty.call(GPU_INSTANCES, settings.gpuInstanceType) ? GPU_INSTANCES[settings.gpuInstanceType] : undefined;
  if (spec === undefined) throw new Error(`gpuInstanceType ${settings.gpuInstanceType} is not in the instance catalog`);
  return spec.gpus;
}

export function clusterGpus(settings: Pick<LayoutSettings, 'gpuInstanceType' | 'gpuNodes'>): number {
  return settings.gpuNodes * gpusPerNode(settings);
}

/** Replicas of a TP size that one node holds (0 when the TP size is larger than a node). */
export function replicasPerNode(gpus: number, tensorParallelSize: number): number {
  return Math.floor(gpus / tensorParallelSize);
}

/** Nodes a group needs when each replica sits whole on one node; Infinity when a replica fits no node. */
export function nodesNeeded(group: ReplicaGroup, gpus: number): number {
  const perNode = replicasPerNode(gpus, group.tensorParallelSize);
  return perNode === 0 ? Infinity : Math.ceil(group.replicas / perNode);
}

const REF_TP = REFERENCE_EXAMPLE.tensorParallelSize;
const REF = REFERENCE_EXAMPLE.layouts;

/** The layouts of the reference example, from the catalog (its published GPU counts follow from them). */
export const REFERENCE_LAYOUTS: { readonly collocated: CollocatedLayout; readonly pd: PdLayout } = {
  collocated: { kind: 'collocated', engine: { replicas: REF.collocatedReplicas, tensorParallelSize: REF_TP } },
  pd: {
    kind: 'pd',
    prefill: { replicas: REF.prefillReplicas, tensorParallelSize: REF_TP },
    decode: { replicas: REF.decodeReplicas, tensorParallelSize: REF_TP },
  },
};

/** The value of each layout setting under profile `reference`; a setting equal to it does not change the layout. */
export const REFERENCE_SETTINGS: Readonly<Record<(typeof LAYOUT_SETTING_KEYS)[number], number>> = {
  tensorParallelSize: REF_TP,
  collocatedReplicas: REF.collocatedReplicas,
  prefillTensorParallelSize: REF_TP,
  prefillReplicas: REF.prefillReplicas,
  decodeTensorParallelSize: REF_TP,
  decodeReplicas: REF.decodeReplicas,
};

/**
 * How many of the cluster's GPU nodes the full-cluster profile gives prefill; decode gets the rest (the larger half
 * when the count is odd: decode holds every running request's KV cache, prefill only the ones being computed).
 */
export function fullClusterPrefillNodes(gpuNodes: number): number {
  return Math.max(1, Math.floor(gpuNodes / 2));
}

/** Profile defaults of the layout settings, each read only from the settings the schema lists above it. */
export const LAYOUT_DEFAULTS = {
  tensorParallelSize: (): number => REFERENCE_EXAMPLE.tensorParallelSize,
  collocatedReplicas: (s: Partial<LayoutSettings>): number => (s.profile === 'reference'
    ? REFERENCE_LAYOUTS.collocated.engine.replicas
    : orOne(s.gpuNodes) * replicasPerNode(gpusOrEight(s), orTp(s.tensorParallelSize))),
  prefillTensorParallelSize: (s: Partial<LayoutSettings>): number => orTp(s.tensorParallelSize),
  prefillReplicas: (s: Partial<LayoutSettings>): number => (s.profile === 'reference'
    ? REFERENCE_LAYOUTS.pd.prefill.replicas
    : fullClusterPrefillNodes(orOne(s.gpuNodes)) * replicasPerNode(gpusOrEight(s), orTp(s.prefillTensorParallelSize))),
  decodeTensorParallelSize: (s: Partial<LayoutSettings>): number => orTp(s.tensorParallelSize),
  decodeReplicas: (s: Partial<LayoutSettings>): number => (s.profile === 'reference'
    ? REFERENCE_LAYOUTS.pd.decode.replicas
    : (orOne(s.gpuNodes) - fullClusterPrefillNodes(orOne(s.gpuNodes))) * replicasPerNode(gpusOrEight(s), orTp(s.decodeTensorParallelSize))),
} as const;

// Defaults are computed before the cross-setting rules run, so a setting above may still be invalid; these keep
// the arithmetic finite and positive, and the rule that reads the invalid setting reports it.
const orOne = (n: number | undefined) => (n !== undefined && n >= 1 ? n : 1);
const orTp = (n: number | undefined) => (n !== undefined && n >= 1 ? n : REFERENCE_EXAMPLE.tensorParallelSize);
const gpusOrEight = (s: Partial<LayoutSettings>) => {
  const spec = s.gpuInstanceType !== undefined && Object.prototype.hasOwnProperty.call(GPU_INSTANCES, s.gpuInstanceType)
    ? GPU_INSTANCES[s.gpuInstanceType] : undefined;
  return spec?.gpus ?? 8;
};

/** The collocated and PD layouts of a validated configuration. */
export function layoutsOf(s: LayoutSettings): { readonly collocated: CollocatedLayout; readonly pd: PdLayout } {
  return {
    collocated: { kind: 'collocated', engine: { replicas: s.collocatedReplicas, tensorParallelSize: s.tensorParallelSize } },
    pd: {
      kind: 'pd',
      prefill: { replicas: s.prefillReplicas, tensorParallelSize: s.prefillTensorParallelSize },
      decode: { replicas: s.decodeReplicas, tensorParallelSize: s.decodeTensorParallelSize },
    },
  };
}

/** Why a layout does not fit the cluster (one line naming the setting, the value and what is allowed), if it does not. */
export function layoutProblems(s: LayoutSettings): { readonly key: (typeof LAYOUT_SETTING_KEYS)[number]; readonly allowed: string }[] {
  const gpus = gpusPerNode(s);
  const nodeWord = `${s.gpuInstanceType} node`;
  const problems: { key: (typeof LAYOUT_SETTING_KEYS)[number]; allowed: string }[] = [];
  const { collocated, pd } = layoutsOf(s);
  const cap = s.gpuNodes * replicasPerNode(gpus, s.tensorParallelSize);
  if (collocated.engine.replicas > cap) {
    problems.push({
      key: 'collocatedReplicas',
      allowed: `${collocated.engine.replicas} replicas × TP${s.tensorParallelSize} need ${groupGpus(collocated.engine)} GPUs, ` +
        `but ${s.gpuNodes} × ${s.gpuInstanceType} hold ${cap} replicas of TP${s.tensorParallelSize} ` +
        `(${replicasPerNode(gpus, s.tensorParallelSize)} per ${gpus}-GPU node; a replica never spans nodes): at most ${cap}`,
    });
  }
  const prefillNodes = nodesNeeded(pd.prefill, gpus);
  const decodeNodes = nodesNeeded(pd.decode, gpus);
  if (prefillNodes + decodeNodes > s.gpuNodes) {
    const why = 'decode may not share them (every KV cache must cross EFA)';
    if (prefillNodes >= s.gpuNodes) {
      const most = (s.gpuNodes - 1) * replicasPerNode(gpus, pd.prefill.tensorParallelSize);
      problems.push({
        key: 'prefillReplicas',
        allowed: `${pd.prefill.replicas} prefill replicas × TP${pd.prefill.tensorParallelSize} need ${prefillNodes} ${nodeWord}s, ` +
          `leaving none of the ${s.gpuNodes} for decode (prefill and decode never share a node: every KV cache must cross EFA): at most ${most}`,
      });
    } else {
      const most = (s.gpuNodes - prefillNodes) * replicasPerNode(gpus, pd.decode.tensorParallelSize);
      problems.push({
        key: 'decodeReplicas',
        allowed: `${pd.decode.replicas} decode replicas × TP${pd.decode.tensorParallelSize} need ${decodeNodes} ${nodeWord}s, ` +
          `but prefill (${pd.prefill.replicas} × TP${pd.prefill.tensorParallelSize}) takes ${prefillNodes} of the ${s.gpuNodes} ` +
          `nodes, and ${why}: at most ${most} with this prefill`,
      });
    }
  }
  return problems;
}

/**
 * The default concurrency sweep: the reference example drives one TP=4 replica at concurrency 64; the sweep doubles
 * from there until every replica of the largest deployment sees that load (64 × replicas), so it saturates the
 * full-cluster layouts (64, 128, 256 on 2 × p5.48xlarge) and stays at the example's 64 for the reference profile.
 */
export function defaultConcurrencies(s: LayoutSettings): readonly number[] {
  const { collocated, pd } = layoutsOf(s);
  const base = REFERENCE_EXAMPLE.workload.concurrency;
  const top = base * Math.max(layoutReplicas(collocated), layoutReplicas(pd));
  const sweep: number[] = [];
  for (let c = base; c < top; c *= 2) sweep.push(c);
  sweep.push(top);
  return sweep;
}
