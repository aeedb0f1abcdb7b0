import { Evidence, isMissing } from './evidence';
import { BenchResult } from './results';

/** The evidence columns of one result, formatted for the table ('missing: …' or 'n/a' when there is no value). */
export interface EvidenceSummary {
  readonly prefixHitPct: number | null;
  readonly kvBytes: number | null;
  readonly kvMeanMs: number | null;
  readonly lmcacheHitPct: number | null;
  /** Bytes through each node's EFA devices in the window: tx + rx + RDMA read + RDMA write counters. */
  readonly efaBytesPerNode: Readonly<Record<string, number>> | null;
  /** Mean GPU utilization (percent) by node role. */
  readonly gpuUtilByRole: Readonly<Record<string, number>> | null;
}

export function summarizeEvidence(evidence: Evidence | null): EvidenceSummary {
  if (evidence === null) {
    return { prefixHitPct: null, kvBytes: null, kvMeanMs: null, lmcacheHitPct: null, efaBytesPerNode: null, gpuUtilByRole: null };
  }
  const f = evidence.fields;
  const pct = (x: typeof f.prefixCacheHitRate) => (isMissing(x) ? null : x.value * 100);
  return {
    prefixHitPct: pct(f.prefixCacheHitRate),
    kvBytes: isMissing(f.kvTransferBytes) ? null : f.kvTransferBytes.value,
    kvMeanMs: isMissing(f.kvTransferMeanMs) ? null : f.kvTransferMeanMs.value,
    lmcacheHitPct: pct(f.lmcacheHitRate),
    efaBytesPerNode: isMissing(f.efaBytes) ? null
      : Object.fromEntries(Object.entries(f.efaBytes.value).map(([node, c]) => [node, (c.tx ?? 0) + (c.rx ?? 0) + (c.rdmaRead ?? 0) + (c.rdmaWrite ?? 0)])),
    gpuUtilByRole: isMissing(f.gpuUtilization) ? null : { ...f.gpuUtilization.byRole },
  };
}

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
