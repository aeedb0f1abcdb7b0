/**
 * Which Ray Serve request router picks the engine replica for each request. It only matters with several replicas of
 * one deployment, where it decides whether a request lands on the replica whose prefix cache (and LMCache CPU tier)
 * already holds its prompt's prefix.
 *
 * Ray 2.58.0 (ray/serve/config.py `RequestRouterConfig`; ray/llm/_internal/serve/core/configs/llm_config.py lists
 * `request_router_config` among the supported `deployment_config` fields): a deployment names its router class by
 * import path in `deployment_config.request_router_config.request_router_class`, with keyword arguments for the
 * router's `initialize_state` in `request_router_kwargs`. Unset, Serve uses `DEFAULT_REQUEST_ROUTER_PATH`,
 * PowerOfTwoChoicesRequestRouter (ray/serve/_private/constants.py); Ray Serve LLM keeps that default for
 * `build_openai_app` / `build_pd_openai_app` (only its opt-in direct-streaming mode, RAY_SERVE_LLM_ENABLE_DIRECT_STREAMING=1,
 * switches to RoundRobinRouter: ray/llm/_internal/serve/core/ingress/builder.py).
 */
export const REQUEST_ROUTERS = {
  'power-of-two': {
    title: "Serve's default PowerOfTwoChoicesRequestRouter: the less busy of two random replicas",
    /** Unset: Serve's default. */
    requestRouterClass: undefined,
    requestRouterKwargs: undefined,
    /** What the YAML file name carries after the configuration id. */
    fileSuffix: '',
  },
  'prefix-aware': {
    title: 'Ray Serve LLM PrefixCacheAffinityRouter: the replica that already served the longest prefix of the prompt, while load is balanced',
    // ray/serve/llm/request_router.py: the public (beta) PrefixCacheAffinityRouter, a subclass of
    // ray/llm/_internal/serve/routing_policies/prefix_aware/prefix_aware_router.py PrefixCacheAffinityRouter.
    requestRouterClass: 'ray.serve.llm.request_router:PrefixCacheAffinityRouter',
    // Ray's defaults (initialize_state), written out so the record says what ran even if a later Ray changes them:
    // match_rate_threshold 0.1 (below it, the replica with the smallest prefix tree), no eviction of the tree.
    // imbalanced_threshold stays at Ray's default, infinity (always prefer the prefix match): JSON cannot write it,
    // and None would break the router's comparison.
    requestRouterKwargs: { match_rate_threshold: 0.1, do_eviction: false },
    fileSuffix: '.prefix-aware',
  },
} as const;

export type RequestRouterName = keyof typeof REQUEST_ROUTERS;
export const REQUEST_ROUTER_NAMES = Object.keys(REQUEST_ROUTERS) as RequestRouterName[];

/** The `requestRouter` setting: a router for every workload, or `auto`. */
export const REQUEST_ROUTER_SETTINGS = ['auto', ...REQUEST_ROUTER_NAMES] as const;
export type RequestRouterSetting = (typeof REQUEST_ROUTER_SETTINGS)[number];

/** `auto`: prefix-aware where prompts share prefixes, Serve's default where every prompt is new. */
export const AUTO_ROUTER_BY_WORKLOAD = { random: 'power-of-two', 'prefix-reuse': 'prefix-aware' } as const satisfies Record<string, RequestRouterName>;

export type WorkloadName = keyof typeof AUTO_ROUTER_BY_WORKLOAD;

export function routerFor(setting: RequestRouterSetting, workload: WorkloadName): RequestRouterName {
  return setting === 'auto' ? AUTO_ROUTER_BY_WORKLOAD[workload] : setting;
}

/** The `request_router_config` of a deployment, or undefined for Serve's default. */
export function requestRouterConfig(name: RequestRouterName): RequestRouterConfig | undefined {
  const router = REQUEST_ROUTERS[name];
  if (router.requestRouterClass === undefined) return undefined;
  return { request_router_class: router.requestRouterClass, request_router_kwargs: { ...router.requestRouterKwargs } };
}

/** Ray's `RequestRouterConfig`, the fields written here. */
export interface RequestRouterConfig {
  readonly request_router_class: string;
  readonly request_router_kwargs?: Readonly<Record<string, unknown>>;
}
