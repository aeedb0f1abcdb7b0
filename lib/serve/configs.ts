import { ClusterConfig } from '../config/cluster-config';
import { NODE_PATHS } from '../catalog/paths';
import { PORTS } from '../catalog/ports';
import { KVTransferConfig, lmcacheConnector, multiConnector, nixlConnector } from './kv-transfer';
import { DeploymentConfig, LLMConfig, ServeDeployConfig } from './schema';

/** One of the reference example's four configurations: a Serve config file plus the experiment name its results carry. */
export interface ServeConfigSpec {
  /** File name without `.yaml`; also what run_all.sh iterates over. */
  readonly id: ServeConfigId;
  /** The `<experiment>` part of the results folder, and the row name in the report. */
  readonly experiment: string;
  readonly title: string;
  readonly document: ServeDeployConfig;
}

export type ServeConfigId = 'collocated_baseline' | 'collocated_lmcache' | 'pd_nixl' | 'pd_multiconnector';

export const SERVE_CONFIG_IDS: readonly ServeConfigId[] = ['collocated_baseline', 'collocated_lmcache', 'pd_nixl', 'pd_multiconnector'];

/** The module builder.py is imported as; the application runtime_env puts the bundle folder on PYTHONPATH. */
export const BUILDER_MODULE = 'builder';

/**
 * The reference example runs 16 ingress replicas so the OpenAI front end is never the bottleneck at concurrency 64. (Its PD
 * proxy settings are gone: Ray 2.58 accepts but ignores proxy_deployment_config, the decode server now orchestrates.)
 */
const INGRESS_REPLICAS = 16;

/** The reference example's collocated configurations run one TP replica; PD uses prefillReplicas + decodeReplicas. */
const COLLOCATED_REPLICAS = 1;

export function serveConfigs(config: ClusterConfig): readonly ServeConfigSpec[] {
  const lmcache = lmcacheConnector();
  const nixl = nixlConnector(config.nixlBackend);
  return [
    collocated(config, 'collocated_baseline', 'collocated-baseline', 'Collocated baseline', undefined),
    collocated(config, 'collocated_lmcache', 'collocated-lmcache', 'Collocated + LMCache', lmcache),
    pd(config, 'pd_nixl', 'pd-nixl', 'PD + NIXL', nixl),
    pd(config, 'pd_multiconnector', 'pd-multiconnector', 'PD + MultiConnector (NIXL + LMCache)', multiConnector([lmcache, nixl])),
  ];
}

function collocated(config: ClusterConfig, id: ServeConfigId, experiment: string, title: string, kv: KVTransferConfig | undefined): ServeConfigSpec {
  return {
    id, experiment, title,
    document: deployDocument({
      name: applicationName(config, experiment),
      import_path: `${BUILDER_MODULE}:collocated_builder`,
      args: {
        llm_config: llmConfig(config, kv, COLLOCATED_REPLICAS),
        ingress_deployment_config: ingressDeployment(),
      },
    }),
  };
}

function pd(config: ClusterConfig, id: ServeConfigId, experiment: string, title: string, kv: KVTransferConfig): ServeConfigSpec {
  return {
    id, experiment, title,
    document: deployDocument({
      name: applicationName(config, experiment),
      import_path: `${BUILDER_MODULE}:pd_builder`,
      args: {
        prefill_config: llmConfig(config, kv, config.prefillReplicas),
        decode_config: llmConfig(config, kv, config.decodeReplicas),
        ingress_deployment_config: ingressDeployment(),
      },
    }),
  };
}

function deployDocument(
  app: Pick<ServeDeployConfig['applications'][number], 'name' | 'import_path' | 'args'>,
): ServeDeployConfig {
  return {
    http_options: { host: '0.0.0.0', port: PORTS.serveHttp },
    applications: [{
      name: app.name,
      route_prefix: '/',
      import_path: app.import_path,
      // `serve deploy` only accepts remote working_dir URIs, so builder.py is found through PYTHONPATH instead: the
      // build task may run on any node, which is why the bundle sits at the same path on every node.
      runtime_env: { env_vars: { PYTHONPATH: NODE_PATHS.serveBundle } },
      args: app.args,
    }],
  };
}

function applicationName(config: ClusterConfig, experiment: string): string {
  return `${config.servedModelName}-${experiment}`;
}

function llmConfig(config: ClusterConfig, kv: KVTransferConfig | undefined, replicas: number): LLMConfig {
  return {
    model_loading_config: { model_id: config.servedModelName, model_source: config.model },
    engine_kwargs: {
      max_model_len: config.maxModelLen,
      tensor_parallel_size: config.tensorParallelSize,
      ...(kv === undefined ? {} : { kv_transfer_config: kv }),
    },
    deployment_config: { num_replicas: replicas },
    experimental_configs: { stream_batching_interval_ms: 0 },
    runtime_env: { env_vars: engineEnv(config, kv) },
  };
}

function ingressDeployment(): DeploymentConfig {
  return { num_replicas: INGRESS_REPLICAS };
}

/** Connectors named in a kv_transfer_config, sub-connectors included. */
export function connectorsOf(kv: KVTransferConfig | undefined): readonly string[] {
  if (kv === undefined) return [];
  const own = kv.kv_connector === undefined ? [] : [kv.kv_connector];
  return [...own, ...(kv.kv_connector_extra_config?.connectors ?? []).flatMap(connectorsOf)];
}

/**
 * Environment of the replica and its vLLM workers. Serve merges these env_vars with the application's, and Ray
 * passes them on to the engine workers' placement group.
 */
function engineEnv(config: ClusterConfig, kv: KVTransferConfig | undefined): Record<string, string> {
  const connectors = connectorsOf(kv);
  const env: Record<string, string> = {
    // Model weights are ~65 GB: the root volume is too small to hold them next to the venv, the NVMe store is not.
    HF_HOME: `${NODE_PATHS.nvme}/hf`,
  };
  if (connectors.includes('LMCacheConnectorV1')) Object.assign(env, lmcacheEnv(config));
  if (connectors.includes('NixlConnector') && config.nixlBackend === 'LIBFABRIC') {
    // AWS's own NIXL test pins libfabric to EFA; otherwise it may pick a TCP provider and look merely slow.
    env.FI_PROVIDER = 'efa';
  }
  return env;
}

/** LMCache maps `LMCACHE_<FIELD>` env vars onto its config (LMCache docs, configuration reference); sizes are GB per TP rank. */
function lmcacheEnv(config: ClusterConfig): Record<string, string> {
  const env: Record<string, string> = {
    LMCACHE_CHUNK_SIZE: String(config.lmcacheChunkSize),
    LMCACHE_LOCAL_CPU: 'True',
    LMCACHE_MAX_LOCAL_CPU_SIZE: String(config.lmcacheCpuGbPerRank),
    // Cache keys hash token chunks; a fixed seed makes every TP rank and replica compute the same keys.
    PYTHONHASHSEED: '0',
  };
  if (config.lmcacheDiskGb > 0) {
    env.LMCACHE_LOCAL_DISK = `file://${NODE_PATHS.nvme}/lmcache/`;
    env.LMCACHE_MAX_LOCAL_DISK_SIZE = String(config.lmcacheDiskGb);
  }
  return env;
}
