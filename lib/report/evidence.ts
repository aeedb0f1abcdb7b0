/**
 * The `evidence` section of a result's sidecar (conc<N>.meta.json): what Prometheus saw during the benchmark point,
 * written by the serve bundle's bench_evidence.py (run by run_bm.sh after every point). This module is its contract
 * on the reading side: types, and a validator whose errors name the file and the field.
 */

/** 2: the EFA RDMA responder counters (rdmaReadResp, rdmaWriteRecv) and the GPU utilization's sample counts. */
export const EVIDENCE_SCHEMA = 2;
/**
 * Schema 1 (results recorded before GPU sample counts and EFA's responder counters existed) is still read: its
 * GPU utilization has no sample counts (nothing is judged on them) and its EFA nodes lack the responder counters.
 */
export const EVIDENCE_SCHEMAS_READ = [1, EVIDENCE_SCHEMA] as const;
const EFA_KEYS_SCHEMA_1 = ['tx', 'rx', 'rdmaRead', 'rdmaWrite'] as const;

/** A field Prometheus could not give, and why (Prometheus down, no series, a counter reset...). Never a silent 0. */
export interface MissingField {
  readonly missing: string;
}

interface Measured<V, U extends string> {
  readonly value: V;
  readonly unit: U;
  /** The PromQL (or the pair of instant queries) the value came from. */
  readonly query: unknown;
  readonly note?: string;
}

export interface RatioField extends Measured<number, 'ratio'> {
  readonly hits: number;
  readonly queries: number;
  readonly byNode?: Readonly<Record<string, { readonly hits: number; readonly queries: number }>>;
  /** Where an indirect value comes from (the LMCache hit rate: vLLM's external prefix cache counters). */
  readonly via?: string;
}

/**
 * Bytes through a node's EFA devices in the window, per counter of the EFA driver (null: no series on the node).
 * tx/rx are the device's basic statistics, not known to include RDMA; the RDMA counters come in pairs, initiator and
 * responder: a decode node's KV pull is its rdmaRead and the prefill node's rdmaReadResp (lib/catalog/monitoring.ts).
 */
export type EfaCounters = Readonly<Record<EfaCounterKey, number | null>>;
export const EFA_KEYS = ['tx', 'rx', 'rdmaRead', 'rdmaReadResp', 'rdmaWrite', 'rdmaWriteRecv'] as const;
export type EfaCounterKey = typeof EFA_KEYS[number];
/** The counters that count RDMA bytes; their sum is a node's RDMA traffic, each byte once per node. */
export const EFA_RDMA_KEYS = ['rdmaRead', 'rdmaReadResp', 'rdmaWrite', 'rdmaWriteRecv'] as const satisfies readonly EfaCounterKey[];

export type NodeRole = 'prefill' | 'decode' | 'collocated' | 'idle' | 'unknown' | `${string}+${string}`;

export interface GpuNodeUtilization {
  readonly role: NodeRole;
  /** Mean GPU utilization (percent) over the node's GPUs and the window. */
  readonly mean: number;
  readonly gpus: number;
  /** The fewest Prometheus samples any of the node's GPUs' means rests on (absent in evidence schema 1). */
  readonly samples?: number;
}

export interface EvidenceFields {
  readonly prefixCacheHitRate: RatioField | MissingField;
  readonly kvTransferBytes: (Measured<number, 'bytes'> & { readonly byNode?: Readonly<Record<string, number>> }) | MissingField;
  readonly kvTransferMeanMs: (Measured<number, 'ms'> & { readonly transfers: number }) | MissingField;
  readonly kvTransferFailures: Measured<number, 'transfers'> | MissingField;
  readonly lmcacheHitRate: RatioField | MissingField;
  readonly efaBytes: Measured<Readonly<Record<string, EfaCounters>>, 'bytes'> | MissingField;
  readonly gpuUtilization: (Measured<Readonly<Record<string, GpuNodeUtilization>>, 'percent'> & {
    readonly byRole: Readonly<Record<string, number>>;
    /** How the sample counts were taken, and how many a window of this length holds at the scrape interval. */
    readonly samples?: { readonly query: string; readonly expected: number; readonly scrapeIntervalSeconds: number };
  }) | MissingField;
}

export interface Evidence {
  readonly schema: (typeof EVIDENCE_SCHEMAS_READ)[number];
  readonly source: string;
  readonly prometheus: { readonly url: string; readonly reachable: boolean | null; readonly error: string | null };
  readonly window: { readonly start: string; readonly end: string; readonly seconds: number };
  /** Which gpu-<i> held prefill, decode or collocated replicas (Ray's state API), or why that is unknown. */
  readonly roles: { readonly nodes: Readonly<Record<string, NodeRole>> | null; readonly missing: string | null };
  readonly fields: EvidenceFields;
}

export const EVIDENCE_FIELDS = [
  'prefixCacheHitRate', 'kvTransferBytes', 'kvTransferMeanMs', 'kvTransferFailures', 'lmcacheHitRate', 'efaBytes', 'gpuUtilization',
] as const satisfies readonly (keyof EvidenceFields)[];

const UNITS: Record<keyof EvidenceFields, string> = {
  prefixCacheHitRate: 'ratio', kvTransferBytes: 'bytes', kvTransferMeanMs: 'ms', kvTransferFailures: 'transfers',
  lmcacheHitRate: 'ratio', efaBytes: 'bytes', gpuUtilization: 'percent',
};
const ROLES: readonly string[] = ['prefill', 'decode', 'collocated', 'idle', 'unknown'];
const ENGINE_ROLES = ['collocated', 'decode', 'prefill'];

/** A known role, or engine roles of one shared node joined by '+' in name order ('decode+prefill' on one machine). */
function isNodeRole(role: unknown): role is NodeRole {
  if (typeof role !== 'string') return false;
  if (ROLES.includes(role)) return true;
  const parts = role.split('+');
  return parts.length > 1 && parts.every((p) => ENGINE_ROLES.includes(p)) && parts.join('+') === [...new Set(parts)].sort().join('+');
}

/** A malformed evidence section; the message names the file and the field. */
export class EvidenceError extends Error {}

export function isMissing(field: object): field is MissingField {
  return 'missing' in field;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Checks `section` (the sidecar's `evidence` value) and returns it typed; throws EvidenceError naming `file` and the field. */
export function validateEvidence(section: unknown, file: string): Evidence {
  const fail = (field: string, problem: string): never => {
    throw new EvidenceError(`${file}: evidence.${field} ${problem}`);
  };
  if (!isObj(section)) fail('', 'is not a JSON object');
  const s = section as Obj;
  if (!(EVIDENCE_SCHEMAS_READ as readonly unknown[]).includes(s.schema)) fail('schema', `is ${JSON.stringify(s.schema)}; this report reads schemas ${EVIDENCE_SCHEMAS_READ.join(' and ')}`);
  const v1 = s.schema === 1;
  if (!isObj(s.prometheus) || typeof s.prometheus.url !== 'string') fail('prometheus.url', 'is not a string');
  if (!isObj(s.window) || typeof s.window.start !== 'string' || typeof s.window.end !== 'string') fail('window', 'lacks start/end');
  if (!isNum((s.window as Obj).seconds) || ((s.window as Obj).seconds as number) < 0) fail('window.seconds', 'is not a number ≥ 0');
  if (!isObj(s.roles)) fail('roles', 'is not an object');
  const roles = (s.roles as Obj).nodes;
  if (roles !== null) {
    if (!isObj(roles)) fail('roles.nodes', 'is neither null nor an object');
    for (const [node, role] of Object.entries(roles as Obj)) {
      if (!isNodeRole(role)) fail(`roles.nodes.${node}`, `is ${JSON.stringify(role)}; allowed: ${ROLES.join(', ')}, or engine roles of one shared node joined by '+' (decode+prefill)`);
    }
  } else if (typeof (s.roles as Obj).missing !== 'string') {
    fail('roles.missing', 'must say why roles.nodes is null');
  }
  if (!isObj(s.fields)) fail('fields', 'is not an object');
  const fields = s.fields as Obj;
  for (const name of EVIDENCE_FIELDS) {
    const where = `fields.${name}`;
    const f = fields[name];
    if (!isObj(f)) fail(where, 'is absent or not an object');
    const field = f as Obj;
    if ('missing' in field) {
      if (typeof field.missing !== 'string' || field.missing === '') fail(`${where}.missing`, 'must be a non-empty reason');
      continue;
    }
    if (field.unit !== UNITS[name]) fail(`${where}.unit`, `is ${JSON.stringify(field.unit)}, expected ${UNITS[name]}`);
    if (field.query === undefined) fail(`${where}.query`, 'is absent: every value carries its query');
    if (name === 'efaBytes') {
      if (!isObj(field.value)) fail(`${where}.value`, 'is not an object of nodes');
      for (const [node, counters] of Object.entries(field.value as Obj)) {
        for (const k of v1 ? EFA_KEYS_SCHEMA_1 : EFA_KEYS) {
          const v = isObj(counters) ? counters[k] : undefined;
          if (v !== null && !(isNum(v) && v >= 0)) fail(`${where}.value.${node}.${k}`, 'is neither a number ≥ 0 nor null');
        }
      }
    } else if (name === 'gpuUtilization') {
      if (!isObj(field.value)) fail(`${where}.value`, 'is not an object of nodes');
      for (const [node, u] of Object.entries(field.value as Obj)) {
        if (!isObj(u) || !isNum(u.mean) || !isNodeRole(u.role)) fail(`${where}.value.${node}`, 'lacks a numeric mean or a known role');
        if (!v1 && (!Number.isInteger((u as Obj).samples) || ((u as Obj).samples as number) < 0)) fail(`${where}.value.${node}.samples`, 'is not a count ≥ 0');
      }
      if (!isObj(field.byRole)) fail(`${where}.byRole`, 'is not an object');
      const samples = field.samples;
      if (!v1 && (!isObj(samples) || !isNum(samples.expected) || !isNum(samples.scrapeIntervalSeconds))) {
        fail(`${where}.samples`, 'lacks the expected count and the scrape interval');
      }
    } else {
      if (!isNum(field.value) || (field.value) < 0) fail(`${where}.value`, `is ${JSON.stringify(field.value)}, not a number ≥ 0`);
      if (UNITS[name] === 'ratio' && (field.value as number) > 1) fail(`${where}.value`, `is ${field.value as number}, a ratio above 1`);
    }
  }
  return s as unknown as Evidence;
}
