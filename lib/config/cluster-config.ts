import { GpuInstanceSpec, cpuInstance, gpuInstance } from '../catalog/instances';
import type { Profile } from '../study/layouts';
import type { RequestRouterSetting } from '../study/routers';
import { ConfigError, invalid } from './errors';
import { RULES } from './rules';
import { EFA_LAYOUTS, NIXL_BACKENDS, SETTINGS, SETTING_KEYS, SettingSpec, closest, didYouMean, settingSpec } from './schema';

/**
 * The validated, typed configuration of one cluster. Produced only by `parseClusterConfig` from the settings table
 * (schema.ts); every construct and generator takes it as given and never re-reads the environment or the context.
 */
export interface ClusterConfig {
  readonly stackName: string;
  readonly region: string;
  readonly availabilityZone: string;
  readonly ignoreRegionCatalog: boolean;
  readonly gpuInstanceType: string;
  readonly gpuNodes: number;
  /** A CPU instance type for the Ray head, or `none` to run the head on the first GPU node. */
  readonly headInstanceType: string;
  readonly efaLayout: EfaLayout;
  readonly amiParameter: string;
  /** Bumped to resolve amiParameter again and replace every node; the AMI is otherwise resolved once. */
  readonly amiGeneration: number;
  readonly rootVolumeGiB: number;
  /** Provisioned gp3 throughput of every node's root volume, MiB/s (the venv is written there). */
  readonly rootVolumeThroughputMiBps: number;
  readonly model: string;
  readonly servedModelName: string;
  readonly maxModelLen: number;
  readonly profile: Profile;
  readonly tensorParallelSize: number;
  readonly collocatedReplicas: number;
  readonly prefillReplicas: number;
  readonly prefillTensorParallelSize: number;
  readonly decodeReplicas: number;
  readonly decodeTensorParallelSize: number;
  readonly requestRouter: RequestRouterSetting;
  readonly nixlBackend: NixlBackend;
  readonly lmcacheChunkSize: number;
  readonly lmcacheCpuGbPerRank: number;
  readonly lmcacheDiskGb: number;
  readonly capacityReservationId?: string;
  readonly capacityBlock: boolean;
  /** An existing cluster placement group (e.g. the one an ODCR was created in) instead of a new one. */
  readonly placementGroupName?: string;
  readonly maxHours: number;
  readonly budgetEmail?: string;
  readonly vpcId?: string;
  readonly subnetId?: string;
  readonly hfTokenSecretName?: string;
  readonly bootstrapTimeoutMinutes: number;
  /** Restore the venv, LMCache wheel and model weights from an S3 cache, and fill it after a successful boot. */
  readonly deployCache: boolean;
  /** The cache bucket; unset: the bucket of the separate deploy-cache stack (lib/cache). */
  readonly cacheBucketName?: string;
}

/**
 * `efa-only`: AWS's current layout for multi-card instances (ENA primary at card 0 / device 0, `efa-only` at
 * card 0 / device 1 and at device 0 of every other card). `efa`: the older layout (an `efa` interface, which
 * also carries IP traffic, at device 0 of every card), kept for AMIs or tools that expect it.
 */
export type EfaLayout = (typeof EFA_LAYOUTS)[number];
export type NixlBackend = (typeof NIXL_BACKENDS)[number];

/** Raw settings: strings from `-c key=value`, typed values from YAML, cdk.json or construct props. */
export type RawConfig = Readonly<Record<string, unknown>>;

/**
 * Turns raw settings into a ClusterConfig, or throws a ConfigError listing every problem found, one line each,
 * naming the setting, the value and what is allowed.
 */
export function parseClusterConfig(raw: RawConfig): ClusterConfig {
  const problems: string[] = [];
  for (const key of Object.keys(raw)) {
    if (settingSpec(key) === undefined && raw[key] !== undefined) {
      const match = closest(key, SETTING_KEYS);
      problems.push(match === undefined
        ? `unknown setting ${key}: allowed settings are ${SETTING_KEYS.join(', ')}`
        : `unknown setting ${key}: did you mean ${match}? (allowed settings: ${SETTING_KEYS.join(', ')})`);
    }
  }
  const values: Record<string, unknown> = {};
  const failed = new Set<string>();
  const isSet = (key: keyof ClusterConfig) => raw[key] !== undefined && raw[key] !== null;
  for (const key of SETTING_KEYS) {
    const spec: SettingSpec = SETTINGS[key];
    const fallback = typeof spec.default === 'function' ? spec.default(values) : spec.default;
    if (!isSet(key)) {
      if (fallback !== undefined) values[key] = fallback;
      continue;
    }
    const outcome = readValue(spec, raw[key]);
    if ('problem' in outcome) {
      problems.push(invalid(key, raw[key], outcome.problem));
      failed.add(key);
      if (fallback !== undefined) values[key] = fallback;
    } else {
      values[key] = outcome.value;
    }
  }
  const config = values as unknown as ClusterConfig;
  for (const rule of RULES) {
    if (rule.reads.some((key) => failed.has(key))) continue;
    problems.push(...rule.check(config, isSet));
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

type ReadOutcome = { readonly value: unknown } | { readonly problem: string };

/** One raw value against its spec: coerced from a CLI string where the type calls for it. */
function readValue(spec: SettingSpec, value: unknown): ReadOutcome {
  switch (spec.type) {
    case 'boolean': {
      if (value === true || value === 'true') return { value: true };
      if (value === false || value === 'false') return { value: false };
      return { problem: 'must be true or false' };
    }
    case 'integer':
    case 'number': {
      const parsed = typeof value === 'number' ? value
        : typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : NaN;
      const what = spec.type === 'integer' ? 'a whole number' : 'a number';
      if (!Number.isFinite(parsed) || (spec.type === 'integer' && !Number.isInteger(parsed)) || parsed < spec.min || parsed > spec.max) {
        return { problem: `must be ${what} from ${spec.min} to ${spec.max}${spec.boundsWhy ? ` (${spec.boundsWhy})` : ''}` };
      }
      const why = spec.check?.(parsed);
      return why === undefined ? { value: parsed } : { problem: why };
    }
    case 'string': {
      if (typeof value !== 'string') return { problem: `must be ${spec.oneOf ? `one of ${spec.oneOf.join(', ')}` : spec.shape ?? 'a string'}` };
      if (spec.oneOf && !spec.oneOf.includes(value)) return { problem: `must be one of ${spec.oneOf.join(', ')}${didYouMean(value, spec.oneOf)}` };
      if (spec.pattern && !spec.pattern.test(value)) return { problem: `must be ${spec.shape ?? `a value matching ${String(spec.pattern)}`}` };
      const why = spec.check?.(value);
      return why === undefined ? { value } : { problem: why };
    }
  }
}

/** The GPU catalog entry of a validated configuration. */
export function gpuSpec(config: Pick<ClusterConfig, 'gpuInstanceType'>): GpuInstanceSpec {
  const spec = gpuInstance(config.gpuInstanceType);
  if (!spec) throw new Error(`gpuInstanceType ${config.gpuInstanceType} passed validation but is not in the catalog`);
  return spec;
}

/** Whether the Ray head runs on its own CPU instance (true) or on the first GPU node. */
export function hasSeparateHead(config: Pick<ClusterConfig, 'headInstanceType'>): boolean {
  return config.headInstanceType !== 'none' && cpuInstance(config.headInstanceType) !== undefined;
}
