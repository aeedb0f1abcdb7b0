import { KVTransferConfig } from './kv-transfer';
import { RequestRouterConfig } from '../study/routers';

/**
 * Typed subsets of the documents Ray 2.58 reads: `ray.serve.schema.ServeDeploySchema` (the file given to
 * `serve deploy`) and `ray.llm…llm_config.LLMConfig` (each llm/prefill/decode config). Only the fields this project
 * writes are modelled; the tests validate the rendered files with Ray itself.
 */
export interface ServeDeployConfig {
  readonly http_options?: { readonly host?: string; readonly port?: number };
  readonly applications: readonly ServeApplication[];
}

export interface ServeApplication {
  readonly name: string;
  readonly route_prefix: string;
  /** `module:function`: a builder in builder.py that turns `args` into a Serve application. */
  readonly import_path: string;
  readonly runtime_env?: RuntimeEnv;
  readonly args: CollocatedBuilderArgs | PdBuilderArgs;
}

export interface RuntimeEnv {
  readonly env_vars?: Readonly<Record<string, string>>;
}

/** Arguments of `builder:collocated_builder`. */
export interface CollocatedBuilderArgs {
  readonly llm_config: LLMConfig;
  readonly ingress_deployment_config: DeploymentConfig;
}

/** Arguments of `builder:pd_builder`; it adds the node placement of each side before calling Ray. */
export interface PdBuilderArgs {
  readonly prefill_config: LLMConfig;
  readonly decode_config: LLMConfig;
  readonly ingress_deployment_config: DeploymentConfig;
  /** builder.py: `separate-nodes` (default, the cluster) or `one-node` (a rehearsal on one machine). */
  readonly pd_placement?: 'separate-nodes' | 'one-node';
}

export interface LLMConfig {
  readonly model_loading_config: ModelLoadingConfig;
  readonly engine_kwargs: EngineKwargs;
  readonly deployment_config?: DeploymentConfig;
  readonly experimental_configs?: ExperimentalConfigs;
  /** Applies to the replica and its engine workers; Serve merges its env_vars with the application's. */
  readonly runtime_env?: RuntimeEnv;
  readonly placement_group_config?: PlacementGroupConfig;
}

export interface ModelLoadingConfig {
  /** The name clients send in the OpenAI `model` field. */
  readonly model_id: string;
  /** Hugging Face repo id (or path) the weights come from. */
  readonly model_source: string;
}

/** Passed to vLLM unchecked by Ray; vLLM itself rejects unknown keys. */
export interface EngineKwargs {
  readonly max_model_len: number;
  readonly tensor_parallel_size: number;
  readonly kv_transfer_config?: KVTransferConfig;
  /** vLLM EngineArgs: one KV cache size for every attention layer (no hybrid KV cache manager). */
  readonly disable_hybrid_kv_cache_manager?: boolean;
  /** vLLM CacheConfig: the KV cache's size per GPU, bytes (a rehearsal keeps it small; see lib/rehearsal). */
  readonly kv_cache_memory_bytes?: number;
}

export interface DeploymentConfig {
  readonly num_replicas?: number;
  /** Which replica each request goes to (routers.ts); unset: Serve's PowerOfTwoChoicesRequestRouter. */
  readonly request_router_config?: RequestRouterConfig;
}

export interface ExperimentalConfigs {
  /** 0 streams every token as produced instead of batching them: the reference example measures TPOT this way. */
  readonly stream_batching_interval_ms?: number;
}

export interface PlacementGroupConfig {
  readonly bundles: readonly Readonly<Record<string, number>>[];
  readonly strategy?: 'PACK' | 'SPREAD' | 'STRICT_PACK' | 'STRICT_SPREAD';
}
