import { EFA_RDMA_KEYS, Evidence, isMissing } from './evidence';
import { BenchResult } from './results';

/** The evidence columns of one result, formatted for the table ('missing: …' or 'n/a' when there is no value). */
export interface EvidenceSummary {
  readonly prefixHitPct: number | null;
  readonly kvBytes: number | null;
  readonly kvMeanMs: number | null;
  readonly lmcacheHitPct: number | null;
  /**
   * RDMA bytes through each node's EFA devices in the window: read + read-response + write + write-received. Not tx/rx:
   * the device's basic statistics are not known to include RDMA (or to exclude it), so adding them could count a
   * byte twice.
   */
  readonly efaRdmaBytesPerNode: Readonly<Record<string, number>> | null;
  /** Mean GPU utilization (percent) by node role. */
  readonly gpuUtilByRole: Readonly<Record<string, number>> | null;
}

export function summarizeEvidence(evidence: Evidence | null): EvidenceSummary {
  if (evidence === null) {
    return { prefixHitPct: null, kvBytes: null, kvMeanMs: null, lmcacheHitPct: null, efaRdmaBytesPerNode: null, gpuUtilByRole: null };
  }
  const f = evidence.fields;
  const pct = (x: typeof f.prefixCacheHitRate) => (isMissing(x) ? null : x.value * 100);
  return {
    prefixHitPct: pct(f.prefixCacheHitRate),
    kvBytes: isMissing(f.kvTransferBytes) ? null : f.kvTransferBytes.value,
    kvMeanMs: isMissing(f.kvTransferMeanMs) ? null : f.kvTransferMeanMs.value,
    lmcacheHitPct: pct(f.lmcacheHitRate),
    efaRdmaBytesPerNode: isMissing(f.efaBytes) ? null
      : Object.fromEntries(Object.entries(f.efaBytes.value).map(([node, c]) => [node, EFA_RDMA_KEYS.reduce((sum, k) => sum + (c[k] ?? 0), 0)])),
    gpuUtilByRole: isMissing(f.gpuUtilization) ? null : { ...f.gpuUtilization.byRole },
  };
}

/**
 * The fewest samples a mean GPU utilization should rest on: below this, one busy or idle moment moves it by 20 points
 * or more. A 60-second point at the 5-second scrape interval holds 12.
 */
export const MIN_GPU_SAMPLES = 5;

/** Fields every configuration's evidence needs; the KV and LMCache fields are judged by configuration below. */
const ESSENTIAL = ['prefixCacheHitRate', 'efaBytes', 'gpuUtilization'] as const;

/**
 * Why a result's evidence is missing or contradicts its configuration: each a short sentence. A PD configuration must
 * move KV over NIXL over the efa provider; a collocated one must not move KV at all; an LMCache one must show its hits.
 */
export function evidenceFlags(r: BenchResult): string[] {
  const ctx = r.context;
  const flags: string[] = [];
  const kind = ctx.kind ?? (ctx.usesNixl === null ? null : ctx.usesNixl ? 'pd' : 'collocated');
  if (ctx.usesNixl === true && ctx.nixlBackend === 'LIBFABRIC') {
    if (ctx.providers === null) flags.push('NIXL provider unknown: the sidecar records no transport');
    for (const [node, provider] of Object.entries(ctx.providers ?? {})) {
      if (provider !== 'efa') flags.push(provider === null ? `NIXL provider of ${node} unknown (no node facts)` : `NIXL provider on ${node} is ${provider}, not efa: KV crossed TCP`);
    }
  }
  if (!ctx.sidecar) return [...flags, 'evidence missing: no conc<N>.meta.json beside the result'];
  if (ctx.evidenceError !== null) return [...flags, `evidence unreadable: ${ctx.evidenceError}`];
  const e = ctx.evidence;
  if (e === null) return [...flags, 'evidence missing: the sidecar has no evidence section (run_bm.sh --no-evidence, or bench_evidence.py failed)'];
  if (e.prometheus.reachable === false) return [...flags, `evidence missing: Prometheus not reachable (${e.prometheus.error ?? 'no reason recorded'})`];
  const f = e.fields;
  for (const name of ESSENTIAL) {
    const field = f[name];
    if (isMissing(field)) flags.push(`evidence missing: ${name}: ${field.missing}`);
  }
  if (e.roles.nodes === null) flags.push(`node roles unknown: ${e.roles.missing ?? 'no reason recorded'}`);
  if (!isMissing(f.gpuUtilization) && f.gpuUtilization.samples !== undefined) {
    const { expected, scrapeIntervalSeconds } = f.gpuUtilization.samples;
    for (const [node, u] of Object.entries(f.gpuUtilization.value)) {
      if (u.samples !== undefined && (u.samples < MIN_GPU_SAMPLES || u.samples < expected / 2)) {
        flags.push(`GPU utilization of ${node} is a mean of ${u.samples} sample(s) per GPU (the ${e.window.seconds} s window holds ` +
          `${expected} at a ${scrapeIntervalSeconds} s scrape; at least ${MIN_GPU_SAMPLES} and half of those wanted): too few to judge by`);
      }
    }
  }
  if (kind === 'pd') {
    if (isMissing(f.kvTransferBytes)) flags.push(`PD configuration without KV-transfer evidence: ${f.kvTransferBytes.missing}`);
    else if (f.kvTransferBytes.value === 0) flags.push('PD configuration moved 0 KV bytes over NIXL: decode did not receive prefill\'s KV');
  }
  if (kind === 'collocated' && !isMissing(f.kvTransferBytes) && f.kvTransferBytes.value > 0) {
    flags.push(`collocated configuration moved ${f.kvTransferBytes.value} KV bytes over NIXL`);
  }
  if (!isMissing(f.kvTransferFailures) && f.kvTransferFailures.value > 0) flags.push(`${f.kvTransferFailures.value} NIXL transfer(s) failed`);
  if (ctx.usesLmcache === true && isMissing(f.lmcacheHitRate)) flags.push(`LMCache configuration without LMCache hits: ${f.lmcacheHitRate.missing}`);
  return flags;
}
