import { MONITORING } from '../catalog/monitoring';
import { NODE_PATHS } from '../catalog/paths';
import type { ClusterConfig } from '../config/cluster-config';
import { clusterGpus, defaultConcurrencies, gpusPerNode } from '../study/layouts';
import {
  PREFIX_REUSE_REQUESTS_PER_PREFIX, PREFIX_REUSE_WORKLOAD, PROMPTS_PER_CONCURRENCY, RANDOM_WORKLOAD, Workload,
} from '../study/workloads';

/**
 * Where a serve bundle runs and what it is sized for: the p5 cluster the stack builds (clusterServeTarget), or one
 * machine rehearsing the whole pipeline before renting one (lib/rehearsal). The serve configurations, builder.py and
 * the benchmark scripts are the same code either way; only these values differ.
 */
export interface ServeTarget {
  /** `rehearsal`: one machine, a functional run whose results are never performance figures. */
  readonly kind: 'cluster' | 'rehearsal';
  readonly paths: ServePaths;
  readonly machine: MachineRecord;
  /**
   * `separate-nodes`: prefill and decode on disjoint GPU nodes, so every KV cache crosses EFA (the cluster).
   * `one-node`: both on the one machine's GPUs (builder.py shares GPUs where there are too few).
   */
  readonly pdPlacement: PdPlacement;
  readonly workloads: { readonly random: Workload; readonly prefixReuse: Workload };
  readonly promptsPerConcurrency: number;
  readonly requestsPerPrefix: number;
  readonly concurrencies: readonly number[];
  readonly prometheusUrl: string;
  /** Replicas of the OpenAI ingress deployment (CPU only). */
  readonly ingressReplicas: number;
  /** Added to every engine's vLLM arguments (engine_kwargs). */
  readonly engineKwargs: Readonly<{ kv_cache_memory_bytes?: number }>;
  /** Added to every engine's environment (after the ones the configuration sets). */
  readonly engineEnv: Readonly<Record<string, string>>;
  /**
   * What the smoke test's answer must mention (case-insensitive); empty: any generated text, for a model whose
   * weights are random.
   */
  readonly smokeExpect: string;
  /** How long one benchmark point may take before run_bm.sh stops it as stalled. */
  readonly benchTimeoutSeconds: number;
}

export type PdPlacement = 'separate-nodes' | 'one-node';

export interface ServePaths {
  /** The bundle folder: builder.py is imported from here (PYTHONPATH), the scripts run from here. */
  readonly serveBundle: string;
  readonly venv: string;
  readonly results: string;
  /** Shell-sourceable settings of the machine (bucket, region); may be absent there. */
  readonly clusterEnv: string;
  readonly hfHome: string;
  /** LMCache's disk tier, when lmcacheDiskGb > 0. */
  readonly lmcacheDisk: string;
}

/** What the results ran on, recorded in every layout record (and so every result's sidecar) and priced by the report. */
export interface MachineRecord {
  /** An EC2 instance type of the catalog, or a description of a machine that is none (never priced). */
  readonly gpuInstanceType: string;
  readonly gpuNodes: number;
  readonly gpusPerNode: number;
  readonly clusterGpus: number;
  /** The region the report prices in; `local` for a machine outside AWS's price list. */
  readonly region: string;
}

/**
 * The reference example runs 16 ingress replicas so the OpenAI front end is never the bottleneck at concurrency 64
 * (anyscale/ray-serve-llm-perf-examples, pd+kv_offloading). (Its PD proxy settings are gone: Ray 2.58 accepts but
 * ignores proxy_deployment_config, the decode server now orchestrates.)
 */
export const CLUSTER_INGRESS_REPLICAS = 16;

/** The cluster the stack deploys: the node paths, the configured instance type, the study's workloads. */
export function clusterServeTarget(config: ClusterConfig): ServeTarget {
  return {
    kind: 'cluster',
    paths: {
      serveBundle: NODE_PATHS.serveBundle,
      venv: NODE_PATHS.venv,
      results: NODE_PATHS.results,
      clusterEnv: NODE_PATHS.clusterEnv,
      hfHome: NODE_PATHS.hfHome,
      lmcacheDisk: `${NODE_PATHS.nvme}/lmcache/`,
    },
    machine: {
      gpuInstanceType: config.gpuInstanceType,
      gpuNodes: config.gpuNodes,
      gpusPerNode: gpusPerNode(config),
      clusterGpus: clusterGpus(config),
      region: config.region,
    },
    pdPlacement: 'separate-nodes',
    workloads: { random: RANDOM_WORKLOAD, prefixReuse: PREFIX_REUSE_WORKLOAD },
    promptsPerConcurrency: PROMPTS_PER_CONCURRENCY,
    requestsPerPrefix: PREFIX_REUSE_REQUESTS_PER_PREFIX,
    concurrencies: defaultConcurrencies(config),
    prometheusUrl: MONITORING.prometheusUrlOnHead,
    ingressReplicas: CLUSTER_INGRESS_REPLICAS,
    engineKwargs: {},
    engineEnv: {},
    // The smoke prompt asks for the capital of France.
    smokeExpect: 'paris',
    // The longest default point (concurrency 256 on 2 × p5.48xlarge: 1,280 prompts of 8,000 + 1,000 tokens) takes
    // minutes; an hour is far beyond it and still bounds a stalled point to one hour of the cluster.
    benchTimeoutSeconds: 3600,
  };
}
