import { ClusterConfig } from '../config/cluster-config';
import { PORTS } from '../catalog/ports';
import { KVTransferConfig, connectorNames, lmcacheConnector, multiConnector, nixlConnector } from './kv-transfer';
import { Layout, ReplicaGroup, layoutsOf } from '../study/layouts';
import { REQUEST_ROUTER_NAMES, REQUEST_ROUTERS, RequestRouterName, requestRouterConfig } from '../study/routers';
import { DeploymentConfig, LLMConfig, ServeDeployConfig } from './schema';
import { ServeTarget, clusterServeTarget } from './target';

/**
 * One serve configuration: the reference example's four (anyscale/ray-serve-llm-perf-examples, pd+kv_offloading)
 * plus `pd_prefill_lmcache`, at the layout the profile gives, with one Serve file per request router.
 */
export interface ServeConfigSpec {
  /** Base of the YAML file names; also what run_all.sh iterates over. */
  readonly id: ServeConfigId;
  /** The `<experiment>` part of the results folder, and the row name in the report. */
  readonly experiment: string;
  readonly title: string;
  readonly layout: Layout;
  /** Connectors of each engine deployment, sub-connectors in order (for the record beside each result). */
  readonly connectors: Readonly<Record<EngineRole, readonly string[]>>;
  /**
   * `disabled`: the file sets vLLM's disable_hybrid_kv_cache_manager on every engine (pd_prefill_lmcache, see
   * there); `auto`: vLLM decides from the model and the connectors.
   */
  readonly hybridKvCacheManager: 'auto' | 'disabled';
  /** The same application with each request router, in REQUEST_ROUTER_NAMES order. */
  readonly variants: readonly ServeConfigVariant[];
}

export interface ServeConfigVariant {
  readonly router: RequestRouterName;
  /** `<id><router suffix>.yaml`: `pd_nixl.yaml` (Serve's default router), `pd_nixl.prefix-aware.yaml`. */
  readonly file: string;
  readonly document: ServeDeployConfig;
}

export type EngineRole = 'llm_config' | 'prefill_config' | 'decode_config';

export type ServeConfigId = 'collocated_baseline' | 'collocated_lmcache' | 'pd_nixl' | 'pd_multiconnector' | 'pd_prefill_lmcache';

/** In the order run_all.sh runs them: the reference example's four, then the fifth. */
export const SERVE_CONFIG_IDS: readonly ServeConfigId[] = ['collocated_baseline', 'collocated_lmcache', 'pd_nixl', 'pd_multiconnector', 'pd_prefill_lmcache'];

/** The reference example's four configurations, the only ones of profile `reference`. */
export const REFERENCE_CONFIG_IDS: readonly ServeConfigId[] = SERVE_CONFIG_IDS.slice(0, 4);

/** The module builder.py is imported as; the application runtime_env puts the bundle folder on PYTHONPATH. */
export const BUILDER_MODULE = 'builder';

export function variantFile(id: ServeConfigId, router: RequestRouterName): string {
  return `${id}${REQUEST_ROUTERS[router].fileSuffix}.yaml`;
}

interface EngineSide {
  readonly group: ReplicaGroup;
  readonly kv: KVTransferConfig | undefined;
}

interface ConfigShape {
  readonly id: ServeConfigId;
  readonly experiment: string;
  readonly title: string;
  readonly layout: Layout;
  readonly sides: Partial<Record<EngineRole, EngineSide>>;
  readonly hybridKvCacheManager: 'auto' | 'disabled';
}

export function serveConfigs(config: ClusterConfig, target: ServeTarget = clusterServeTarget(config)): readonly ServeConfigSpec[] {
  const { collocated, pd } = layoutsOf(config);
  const lmcache = lmcacheConnector();
  const nixl = nixlConnector(config.nixlBackend);
  const collocatedShape = (id: ServeConfigId, experiment: string, title: string, kv: KVTransferConfig | undefined): ConfigShape => ({
    id, experiment, title, layout: collocated, hybridKvCacheManager: 'auto', sides: { llm_config: { group: collocated.engine, kv } },
  });
  const pdShape = (id: ServeConfigId, experiment: string, title: string, prefill: KVTransferConfig, decode: KVTransferConfig,
    hybrid: 'auto' | 'disabled' = 'auto'): ConfigShape => ({
    id, experiment, title, layout: pd, hybridKvCacheManager: hybrid,
    sides: { prefill_config: { group: pd.prefill, kv: prefill }, decode_config: { group: pd.decode, kv: decode } },
  });
  const shapes: ConfigShape[] = [
    collocatedShape('collocated_baseline', 'collocated-baseline', 'Collocated baseline', undefined),
    collocatedShape('collocated_lmcache', 'collocated-lmcache', 'Collocated + LMCache', lmcache),
    pdShape('pd_nixl', 'pd-nixl', 'PD + NIXL', nixl, nixl),
    pdShape('pd_multiconnector', 'pd-multiconnector', 'PD + MultiConnector (NIXL + LMCache)',
      multiConnector([lmcache, nixl]), multiConnector([lmcache, nixl])),
    // Decode gains nothing from LMCache in PD (its KV arrives over NIXL), so only prefill runs it. NIXL comes first
    // on prefill: vLLM's MultiConnector publishes the first sub-connector's non-empty handshake metadata
    // (get_handshake_metadata) and Ray 2.58's MultiConnectorBackend takes the P/D protocol from its first
    // sub-connector, so both stay NIXL's whatever LMCache reports; LMCache still serves prefill's cache hits, since
    // NIXL matches no tokens for a request that only produces KV (do_remote_decode). Both sides turn vLLM's hybrid
    // KV cache manager off: LMCacheConnectorV1 does not support it, so prefill runs without it, and NIXL's
    // handshake rejects a peer whose hybrid-manager setting differs (compute_nixl_compatibility_hash hashes
    // is_hma_enabled). See the notes of this study for the source lines.
    pdShape('pd_prefill_lmcache', 'pd-prefill-lmcache', 'PD + LMCache on prefill only (prefill: NIXL + LMCache; decode: NIXL)',
      multiConnector([nixl, lmcache]), nixl, 'disabled'),
  ];
  // The reference profile reproduces the example's table: its four configurations only.
  return shapes.filter((shape) => config.profile !== 'reference' || REFERENCE_CONFIG_IDS.includes(shape.id)).map((shape) => ({
    id: shape.id,
    experiment: shape.experiment,
    title: shape.title,
    layout: shape.layout,
    hybridKvCacheManager: shape.hybridKvCacheManager,
    connectors: Object.fromEntries(Object.entries(shape.sides).map(([role, side]) => [role, connectorNames(side.kv)])) as Record<EngineRole, string[]>,
    variants: REQUEST_ROUTER_NAMES.map((router) => ({ router, file: variantFile(shape.id, router), document: document(config, target, shape, router) })),
  }));
}

function document(config: ClusterConfig, target: ServeTarget, shape: ConfigShape, router: RequestRouterName): ServeDeployConfig {
  const llm = (side: EngineSide) => llmConfig(config, target, side, router, shape.hybridKvCacheManager);
  const { llm_config, prefill_config, decode_config } = shape.sides;
  const ingress = ingressDeployment(target);
  const args = llm_config !== undefined
    ? { llm_config: llm(llm_config), ingress_deployment_config: ingress }
    : {
      prefill_config: llm(required(prefill_config)), decode_config: llm(required(decode_config)), ingress_deployment_config: ingress,
      // builder.py's default is the cluster's rule (disjoint nodes): only a one-machine rehearsal says otherwise.
      ...(target.pdPlacement === 'separate-nodes' ? {} : { pd_placement: target.pdPlacement }),
    };
  return {
    http_options: { host: '0.0.0.0', port: PORTS.serveHttp },
    applications: [{
      name: applicationName(config, shape.experiment),
      route_prefix: '/',
      import_path: `${BUILDER_MODULE}:${llm_config !== undefined ? 'collocated_builder' : 'pd_builder'}`,
      // `serve deploy` only accepts remote working_dir URIs, so builder.py is found through PYTHONPATH instead: the
      // build task may run on any node, which is why the bundle sits at the same path on every node.
      runtime_env: { env_vars: { PYTHONPATH: target.paths.serveBundle } },
      args,
    }],
  };
}

function required<T>(x: T | undefined): T {
  if (x === undefined) throw new Error('a PD configuration needs both sides');
  return x;
}

function applicationName(config: ClusterConfig, experiment: string): string {
  return `${config.servedModelName}-${experiment}`;
}

function llmConfig(config: ClusterConfig, target: ServeTarget, side: EngineSide, router: RequestRouterName, hybrid: 'auto' | 'disabled'): LLMConfig {
  const routing = requestRouterConfig(router);
  return {
    model_loading_config: { model_id: config.servedModelName, model_source: config.model },
    engine_kwargs: {
      max_model_len: config.maxModelLen,
      tensor_parallel_size: side.group.tensorParallelSize,
      ...(side.kv === undefined ? {} : { kv_transfer_config: side.kv }),
      ...(hybrid === 'disabled' ? { disable_hybrid_kv_cache_manager: true } : {}),
      ...target.engineKwargs,
    },
    deployment_config: { num_replicas: side.group.replicas, ...(routing === undefined ? {} : { request_router_config: routing }) },
    experimental_configs: { stream_batching_interval_ms: 0 },
    runtime_env: { env_vars: engineEnv(config, target, side.kv) },
  };
}

function ingressDeployment(target: ServeTarget): DeploymentConfig {
  return { num_replicas: target.ingressReplicas };
}

/**
 * Environment of the replica and its vLLM workers. Serve merges these env_vars with the application's, and Ray
 * passes them on to the engine workers' placement group.
 */
function engineEnv(config: ClusterConfig, target: ServeTarget, kv: KVTransferConfig | undefined): Record<string, string> {
  const connectors = connectorNames(kv);
  const env: Record<string, string> = {
    // Model weights are ~65 GB: the root volume is too small to hold them next to the venv, the NVMe store is not.
    HF_HOME: target.paths.hfHome,
  };
  if (connectors.includes('LMCacheConnectorV1')) Object.assign(env, lmcacheEnv(config, target));
  if (connectors.includes('NixlConnector') && config.nixlBackend === 'LIBFABRIC') {
    // AWS's own NIXL test pins libfabric to EFA; otherwise it may pick a TCP provider and look merely slow.
    env.FI_PROVIDER = 'efa';
  }
  return { ...env, ...target.engineEnv };
}

/** LMCache maps `LMCACHE_<FIELD>` env vars onto its config (LMCache docs, configuration reference); sizes are GB per TP rank. */
function lmcacheEnv(config: ClusterConfig, target: ServeTarget): Record<string, string> {
  const env: Record<string, string> = {
    LMCACHE_CHUNK_SIZE: String(config.lmcacheChunkSize),
    LMCACHE_LOCAL_CPU: 'True',
    LMCACHE_MAX_LOCAL_CPU_SIZE: String(config.lmcacheCpuGbPerRank),
    // Cache keys hash token chunks; a fixed seed makes every TP rank and replica compute the same keys.
    PYTHONHASHSEED: '0',
  };
  if (config.lmcacheDiskGb > 0) {
    env.LMCACHE_LOCAL_DISK = `file://${target.paths.lmcacheDisk}`;
    env.LMCACHE_MAX_LOCAL_DISK_SIZE = String(config.lmcacheDiskGb);
  }
  return env;
}
