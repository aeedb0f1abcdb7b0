import { MONITORING } from '../catalog/monitoring';

/**
 * Every metric name a dashboard panel of ours may query, with where it was checked upstream. A panel naming anything
 * else fails test/monitoring: a name the pinned exporters do not export would leave the panel silently empty.
 *
 * vLLM's metrics reach Prometheus through Ray: under Ray Serve LLM, vLLM 0.26.0 records them with Ray's metrics API
 * (vllm/v1/metrics/ray_wrappers.py, RayPrometheusStatLogger), which replaces the `:` of `vllm:<name>` by `_`
 * (_get_sanitized_opentelemetry_name), and Ray's metrics agent exports every application metric with the `ray_`
 * prefix. So vLLM's `vllm:time_to_first_token_seconds` is `ray_vllm_time_to_first_token_seconds` here, exactly as
 * Ray 2.58.0's own Serve LLM dashboard queries it (ray/dashboard/modules/metrics/dashboards/
 * serve_llm_dashboard_panels.py in the ray 2.58.0 wheel; test/monitoring checks each `ray_vllm_` name against that
 * file in the installed wheel).
 *
 * LMCache 0.5.6's own Prometheus metrics (lmcache/observability.py, `lmcache:*`) are registered with
 * prometheus_client in the engine process and served by nothing under Ray Serve, so they never reach Prometheus;
 * what LMCache served shows in vLLM's KV-connector prefix-cache counters (`vllm:external_prefix_cache_*`: tokens
 * the connector found outside the GPU prefix cache).
 */
export interface MetricName {
  readonly name: string;
  readonly source: string;
}

const RAY_LLM_PANELS = 'ray-project/ray@ray-2.58.0:python/ray/dashboard/modules/metrics/dashboards/serve_llm_dashboard_panels.py';
const VLLM_LOGGERS = 'vllm-project/vllm@v0.26.0:vllm/v1/metrics/loggers.py';
const VLLM_NIXL = 'vllm-project/vllm@v0.26.0:vllm/distributed/kv_transfer/kv_connector/v1/nixl_connector.py (NixlPromMetrics)';
const RAY_SERVE_METRICS = 'ray-project/ray@ray-2.58.0:python/ray/serve/_private/replica.py (serve_deployment_request_counter)';
const DCGM_CSV = 'NVIDIA/dcgm-exporter@4.5.3-4.8.2:etc/dcp-metrics-included.csv (field names), our lib/monitoring/dcgm-counters.ts';

/** `<base>` of a Prometheus histogram: the series Prometheus stores are `<base>_bucket`, `_sum`, `_count`. */
function histogram(base: string, source: string): MetricName[] {
  return ['_bucket', '_sum', '_count'].map((s) => ({ name: `${base}${s}`, source }));
}

export const ALLOWED_METRICS: readonly MetricName[] = [
  ...histogram('ray_vllm_time_to_first_token_seconds', `${VLLM_LOGGERS} (vllm:time_to_first_token_seconds); ${RAY_LLM_PANELS}`),
  ...histogram('ray_vllm_request_time_per_output_token_seconds', `${VLLM_LOGGERS} (vllm:request_time_per_output_token_seconds); ${RAY_LLM_PANELS}`),
  { name: 'ray_vllm_generation_tokens_total', source: `${VLLM_LOGGERS} (vllm:generation_tokens); ${RAY_LLM_PANELS}` },
  { name: 'ray_vllm_prompt_tokens_total', source: `${VLLM_LOGGERS} (vllm:prompt_tokens); ${RAY_LLM_PANELS}` },
  { name: 'ray_vllm_prefix_cache_hits_total', source: `${VLLM_LOGGERS} (vllm:prefix_cache_hits); ${RAY_LLM_PANELS}` },
  { name: 'ray_vllm_prefix_cache_queries_total', source: `${VLLM_LOGGERS} (vllm:prefix_cache_queries); ${RAY_LLM_PANELS}` },
  { name: 'ray_vllm_external_prefix_cache_hits_total', source: `${VLLM_LOGGERS} (vllm:external_prefix_cache_hits); ${RAY_LLM_PANELS}` },
  { name: 'ray_vllm_external_prefix_cache_queries_total', source: `${VLLM_LOGGERS} (vllm:external_prefix_cache_queries); ${RAY_LLM_PANELS}` },
  { name: 'ray_vllm_kv_cache_usage_perc', source: `${VLLM_LOGGERS} (vllm:kv_cache_usage_perc); ${RAY_LLM_PANELS}` },
  { name: 'ray_vllm_num_requests_running', source: `${VLLM_LOGGERS} (vllm:num_requests_running); ${RAY_LLM_PANELS}` },
  { name: 'ray_vllm_nixl_bytes_transferred_sum', source: `${VLLM_NIXL} (vllm:nixl_bytes_transferred); ${RAY_LLM_PANELS}` },
  { name: 'ray_vllm_nixl_xfer_time_seconds_sum', source: `${VLLM_NIXL} (vllm:nixl_xfer_time_seconds); ${RAY_LLM_PANELS}` },
  { name: 'ray_vllm_nixl_xfer_time_seconds_count', source: `${VLLM_NIXL} (vllm:nixl_xfer_time_seconds); ${RAY_LLM_PANELS}` },
  { name: 'ray_serve_deployment_request_counter_total', source: `${RAY_SERVE_METRICS}; ${RAY_LLM_PANELS} (its deployment join)` },
  ...Object.values(MONITORING.gpuMetrics).map((name) => ({ name, source: DCGM_CSV })),
  { name: 'DCGM_FI_PROF_NVLINK_TX_BYTES', source: DCGM_CSV },
  { name: 'DCGM_FI_PROF_NVLINK_RX_BYTES', source: DCGM_CSV },
  { name: 'DCGM_FI_PROF_PCIE_TX_BYTES', source: DCGM_CSV },
  { name: 'DCGM_FI_PROF_PCIE_RX_BYTES', source: DCGM_CSV },
  ...Object.values(MONITORING.efaMetrics).map((name) => ({
    name, source: 'ours (lib/bootstrap/scripts/efa-counters.sh) from the EFA driver\'s hw_counters ' +
      '(amzn/amzn-drivers@efa_linux_3.1.0:kernel/linux/efa/src/efa_verbs.c, EFA_DEFINE_PORT_STATS)',
  })),
  { name: 'up', source: 'Prometheus: one `up` series per scrape target (prometheus.io/docs, Jobs and instances)' },
];

export const ALLOWED_METRIC_NAMES: ReadonlySet<string> = new Set(ALLOWED_METRICS.map((m) => m.name));
