import { NixlBackend } from '../config/cluster-config';

/**
 * vLLM's `KVTransferConfig`, field for field. Since vLLM PR #31541 its config classes reject unknown keys, so this
 * type lists only the real fields (vllm-project/vllm, vllm/config/kv_transfer.py) and tests check every generated kv_transfer_config
 * against KV_TRANSFER_CONFIG_FIELDS.
 */
export interface KVTransferConfig {
  readonly kv_connector?: KvConnectorName;
  readonly engine_id?: string;
  readonly kv_buffer_device?: string;
  readonly kv_buffer_size?: number;
  readonly kv_role?: KvRole;
  readonly kv_rank?: number;
  readonly kv_parallel_size?: number;
  readonly kv_ip?: string;
  readonly kv_port?: number;
  readonly kv_connector_extra_config?: KvConnectorExtraConfig;
  readonly kv_connector_module_path?: string;
  readonly enable_permute_local_kv?: boolean;
  readonly kv_load_failure_policy?: 'recompute' | 'fail';
}

export const KV_TRANSFER_CONFIG_FIELDS: readonly (keyof KVTransferConfig)[] = [
  'kv_connector', 'engine_id', 'kv_buffer_device', 'kv_buffer_size', 'kv_role', 'kv_rank', 'kv_parallel_size',
  'kv_ip', 'kv_port', 'kv_connector_extra_config', 'kv_connector_module_path', 'enable_permute_local_kv',
  'kv_load_failure_policy',
];

export type KvConnectorName = 'NixlConnector' | 'LMCacheConnectorV1' | 'MultiConnector';
export type KvRole = 'kv_producer' | 'kv_consumer' | 'kv_both';

/** Connector-specific settings: vLLM passes this dict through to the connector unchecked. */
export interface KvConnectorExtraConfig {
  /** NixlConnector: transports to try, in order (default `["UCX"]`). */
  readonly backends?: readonly NixlBackend[];
  /** MultiConnector: each entry is built into its own KVTransferConfig, so the same field rules apply. */
  readonly connectors?: readonly KVTransferConfig[];
}

/** GPU-to-GPU transfer between prefill and decode. `backends` lives here, never at the top level (README). */
export function nixlConnector(backend: NixlBackend): KVTransferConfig {
  return { kv_connector: 'NixlConnector', kv_role: 'kv_both', kv_connector_extra_config: { backends: [backend] } };
}

/** Offload to CPU RAM (and optionally NVMe); LMCache reads its own settings from LMCACHE_* env vars. */
export function lmcacheConnector(): KVTransferConfig {
  return { kv_connector: 'LMCacheConnectorV1', kv_role: 'kv_both' };
}

/**
 * Loads come from the first sub-connector that reports matched tokens, saves go to all (vLLM MultiConnector). The
 * order is the caller's: pd_multiconnector keeps the reference example's (LMCache first, as in its
 * pd_multiconnector.yaml and Ray's docs, so a CPU hit on decode avoids a NIXL transfer); pd_prefill_lmcache puts
 * NIXL first (configs.ts says why). Ray 2.58 takes the P/D protocol from the first sub-connector, which is why an
 * empty or nested list is rejected here before Ray would.
 */
export function multiConnector(connectors: readonly KVTransferConfig[]): KVTransferConfig {
  if (connectors.length === 0) throw new Error('MultiConnector needs at least one sub-connector');
  if (connectors.some((c) => c.kv_connector === 'MultiConnector')) throw new Error('MultiConnector cannot nest a MultiConnector');
  return { kv_connector: 'MultiConnector', kv_role: 'kv_both', kv_connector_extra_config: { connectors } };
}

/** Connectors named in a kv_transfer_config, sub-connectors included, in order. */
export function connectorNames(kv: KVTransferConfig | undefined): readonly string[] {
  if (kv === undefined) return [];
  const own = kv.kv_connector === undefined ? [] : [kv.kv_connector];
  return [...own, ...(kv.kv_connector_extra_config?.connectors ?? []).flatMap(connectorNames)];
}
