import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EXIT_FLAGGED, runReport, validateEvidence } from '../../lib/report';
import { NOTHING_RECORDED } from '../../lib/report/table';

type Json = any;

const missing = (reason: string) => ({ missing: reason });

/** An evidence section as bench_evidence.py writes it (test/serve/evidence.test.ts checks the writer against the validator). */
function evidence(fields: Json = {}, extra: Json = {}): Json {
  const ratio = (hits: number, queries: number) => ({ value: hits / queries, unit: 'ratio', hits, queries, query: 'q' });
  return {
    schema: 2, source: 'bench_evidence.py', prometheus: { url: 'http://127.0.0.1:9090', reachable: true, error: null },
    window: { start: '2026-12-03T10:00:00.00Z', end: '2026-12-03T10:01:00.00Z', seconds: 60 },
    roles: { nodes: { 'gpu-0': 'prefill', 'gpu-1': 'decode' }, missing: null },
    fields: {
      prefixCacheHitRate: ratio(250, 1000),
      kvTransferBytes: { value: 12.5e9, unit: 'bytes', query: 'q', byNode: { 'gpu-1': 12.5e9 } },
      kvTransferMeanMs: { value: 4.25, unit: 'ms', transfers: 320, query: 'q' },
      kvTransferFailures: { value: 0, unit: 'transfers', query: 'q', byNode: {} },
      lmcacheHitRate: missing('not applicable: no engine of this pd configuration uses LMCache'),
      // Decode pulls prefill's KV: decode's rdmaRead, prefill's rdmaReadResp. tx/rx (basic statistics) stay out of the sum.
      efaBytes: {
        value: {
          'gpu-0': { tx: 13e9, rx: 1e9, rdmaRead: null, rdmaReadResp: 12e9, rdmaWrite: null, rdmaWriteRecv: null },
          'gpu-1': { tx: 1e9, rx: 0, rdmaRead: 12e9, rdmaReadResp: 0, rdmaWrite: 0, rdmaWriteRecv: 5e8 },
        },
        unit: 'bytes', query: {},
      },
      gpuUtilization: {
        value: { 'gpu-0': { role: 'prefill', mean: 87.4, gpus: 8, samples: 12 }, 'gpu-1': { role: 'decode', mean: 41.2, gpus: 8, samples: 12 } },
        unit: 'percent', query: 'q', byRole: { decode: 41.2, prefill: 87.4 }, samples: { query: 'q', expected: 12, scrapeIntervalSeconds: 5 },
      },
      ...fields,
    },
    ...extra,
  };
}

const transport = (providers: Record<string, string | null>, usesNixl = true) => ({
  usesNixl, nixlBackend: 'LIBFABRIC', nodes: Object.fromEntries(Object.entries(providers).map(([n, p]) => [n, p === null ? null : { backend: 'LIBFABRIC', provider: p }])),
});

const layout = (kind: 'pd' | 'collocated', connectors: string[]) => ({
  schema: 1, profile: 'reference', layout: kind === 'pd' ? '1P × TP4 + 1D × TP4' : '1 × TP4', gpus: kind === 'pd' ? 8 : 4, clusterGpus: 16,
  gpuNodes: 2, gpuInstanceType: 'p5.48xlarge', gpusPerNode: 8, region: 'us-east-1', router: { name: 'power-of-two' }, kind,
  engines: kind === 'pd' ? { prefill_config: { connectors }, decode_config: { connectors } } : { llm_config: { connectors } },
});

/** Results of one workload at concurrency 64, each with the sidecar `meta` (undefined: no sidecar). */
function results(points: Record<string, Json>): string {
  const dir = mkdtempSync(join(tmpdir(), 'report-evidence-'));
  for (const [experiment, meta] of Object.entries(points)) {
    const folder = join(dir, `gptoss_itl8000_otl1000_mixed_${experiment}`);
    mkdirSync(folder);
    writeFileSync(join(folder, 'conc64.json'), JSON.stringify({
      completed: 320, request_throughput: 3, output_throughput: 3000, mean_ttft_ms: 1800, mean_tpot_ms: 19,
      median_ttft_ms: 1500, p50_ttft_ms: 1500, p99_ttft_ms: 4100.5, median_tpot_ms: 18.5, p50_tpot_ms: 18.5, p99_tpot_ms: 30.25,
    }));
    if (meta !== undefined) writeFileSync(join(folder, 'conc64.meta.json'), JSON.stringify({ schema: 1, result: 'conc64.json', ...meta }));
  }
  return dir;
}

const evidenceRow = (stdout: string, experiment: string): string => {
  const rows = stdout.split('\n').filter((l) => l.startsWith(`| ${experiment} | `) && l.includes(' / '));
  assert.equal(rows.length, 1, stdout);
  return rows[0];
};

const GOOD_PD = { layout: layout('pd', ['NixlConnector']), transport: transport({ 'gpu-0': 'efa', 'gpu-1': 'efa' }), evidence: evidence() };

describe('report: evidence beside each result', () => {
  it('shows p50/p99 TTFT and TPOT and the evidence columns of a PD result whose evidence agrees with it, unflagged', async () => {
    const out = await runReport(results({ 'pd-nixl': GOOD_PD }), { json: false, chart: false, strict: true });
    assert.equal(out.exitCode, 0, out.stderr);
    assert.equal(evidenceRow(out.stdout, 'pd-nixl'),
      '| pd-nixl | 1500.00 / 4100.50 | 18.50 / 30.25 | 25.0 | 12.50 (4.25 ms) | n/a | gpu-0 12.00, gpu-1 12.50 | decode 41, prefill 87 | ok |');
    assert.ok(out.stdout.includes('| Configuration | TTFT p50 / p99 (ms) | TPOT p50 / p99 (ms) | Prefix cache hit % | KV over NIXL: GB (mean ms per transfer) |'));
    assert.doesNotMatch(out.stdout, /Warnings/);
    assert.equal(out.stderr, '');
  });

  it('flags missing evidence and evidence that contradicts the configuration, in the table and once in the warnings (stderr only counts them); --strict exits 3', async () => {
    const dir = results({
      'pd-nixl': { ...GOOD_PD, evidence: evidence({ kvTransferBytes: { value: 0, unit: 'bytes', query: 'q', note: 'no NIXL series' } }) },
      'pd-multiconnector': { ...GOOD_PD, layout: layout('pd', ['LMCacheConnectorV1', 'NixlConnector']), transport: transport({ 'gpu-0': 'efa', 'gpu-1': 'tcp' }) },
      'collocated-baseline': { layout: layout('collocated', []), transport: transport({ 'gpu-0': 'efa' }, false) },
      'collocated-lmcache': { layout: layout('collocated', ['LMCacheConnectorV1']), transport: transport({}, false), evidence: evidence() },
      'pd-prefill-lmcache': undefined,
    });
    const out = await runReport(dir, { json: false, chart: false });
    assert.equal(out.exitCode, 0, 'without --strict the flags only warn');
    const warnings = out.stdout.split('\n').filter((l) => l.startsWith('- '));
    // Each warning once: the one two results share names both.
    assert.deepEqual(warnings, [
      '- collocated-baseline: evidence missing: the sidecar has no evidence section (run_bm.sh --no-evidence, or bench_evidence.py failed)',
      '- collocated-lmcache: collocated configuration moved 12500000000 KV bytes over NIXL',
      '- collocated-lmcache, pd-multiconnector: LMCache configuration without LMCache hits: not applicable: no engine of this pd configuration uses LMCache',
      '- pd-nixl: PD configuration moved 0 KV bytes over NIXL: decode did not receive prefill\'s KV',
      '- pd-multiconnector: NIXL provider on gpu-1 is tcp, not efa: KV crossed TCP',
      '- pd-prefill-lmcache: evidence missing: no conc<N>.meta.json beside the result',
    ]);
    assert.ok(out.stdout.includes('**Warnings** (5 of 5 results flagged; each warning once, with the results it concerns):'), out.stdout);
    assert.match(evidenceRow(out.stdout, 'pd-nixl'), /\| 0\.00 \(4\.25 ms\) \| .* \| ⚠ 1 \|$/);
    assert.match(evidenceRow(out.stdout, 'collocated-baseline'), /\| n\/a \| n\/a \| n\/a \| n\/a \| n\/a \| ⚠ 1 \|$/);
    // No warning is printed twice: stderr says how many results are flagged and where to read why.
    assert.equal(out.stderr, 'warning: 5 result(s) flagged (evidence missing or contradicting the configuration): see **Warnings** in the report');
    for (const w of warnings) assert.equal(out.stdout.split('\n').filter((l) => l === w).length, 1, w);
    assert.equal((await runReport(dir, { json: false, chart: false, strict: true })).exitCode, EXIT_FLAGGED);
    const asJson = await runReport(dir, { json: true, chart: false });
    const json = JSON.parse(asJson.stdout);
    assert.equal(json.warnings.length, 7, 'the JSON keeps one warning per result and flag, for scripts');
    assert.match(asJson.stderr, /^warning: 5 result\(s\) flagged .*: see "warnings" in the JSON$/);
    const pd = json.workloads[0].rows.find((r: Json) => r.experiment === 'pd-nixl');
    assert.deepEqual(pd.percentiles, { p50TtftMs: 1500, p99TtftMs: 4100.5, p50TpotMs: 18.5, p99TpotMs: 30.25 });
    assert.equal(pd.evidence.kvBytes, 0);
  });

  it('says once that results without percentiles or sidecars recorded nothing, instead of a table of n/a, and warns once for them all', async () => {
    const dir = results({ 'collocated-baseline': undefined, 'pd-nixl': undefined });
    for (const experiment of ['collocated-baseline', 'pd-nixl']) {
      // Means only, as figures copied from a publication (the reference example's table) are.
      const file = join(dir, `gptoss_itl8000_otl1000_mixed_${experiment}`, 'conc64.json');
      const full: Json = JSON.parse(readFileSync(file, 'utf8'));
      writeFileSync(file, JSON.stringify(Object.fromEntries(Object.entries(full).filter(([k]) => !/^(p\d+|median)_/.test(k)))));
    }
    const out = await runReport(dir, { json: false, chart: false });
    assert.ok(out.stdout.includes(`\n${NOTHING_RECORDED}\n`), out.stdout);
    assert.doesNotMatch(out.stdout, /\| TTFT p50 \/ p99 \(ms\) \||n\/a/);
    assert.deepEqual(out.stdout.split('\n').filter((l) => l.startsWith('- ')),
      ['- collocated-baseline, pd-nixl: evidence missing: no conc<N>.meta.json beside the result']);
    assert.equal(out.stderr.split('\n').length, 1);
  });

  it('flags Prometheus down, missing essential fields and unknown roles, each with the recorded reason', async () => {
    const down = evidence(Object.fromEntries(['prefixCacheHitRate', 'kvTransferBytes', 'kvTransferMeanMs', 'kvTransferFailures', 'lmcacheHitRate', 'efaBytes',
      'gpuUtilization'].map((f) => [f, missing('Prometheus not reachable: http://127.0.0.1:9090 unreachable (refused)')])),
    { prometheus: { url: 'http://127.0.0.1:9090', reachable: false, error: 'http://127.0.0.1:9090 unreachable (refused)' } });
    const partial = evidence({ efaBytes: missing('no series of p5ray_efa_tx_bytes_total') }, { roles: { nodes: null, missing: 'cannot read Ray\'s state API' } });
    const out = await runReport(results({ 'pd-nixl': { ...GOOD_PD, evidence: down }, 'pd-multiconnector': { ...GOOD_PD, evidence: partial } }), { json: false, chart: false });
    const warnings = out.stdout.split('\n').filter((l) => l.startsWith('- '));
    assert.deepEqual(warnings, [
      '- pd-nixl: evidence missing: Prometheus not reachable (http://127.0.0.1:9090 unreachable (refused))',
      '- pd-multiconnector: evidence missing: efaBytes: no series of p5ray_efa_tx_bytes_total',
      '- pd-multiconnector: node roles unknown: cannot read Ray\'s state API',
    ]);
  });

  it('a malformed evidence section is flagged with the file and the field, and the result is still shown', async () => {
    const dir = results({ 'pd-nixl': { ...GOOD_PD, evidence: evidence({}, { schema: 99 }) } });
    const out = await runReport(dir, { json: false, chart: false, strict: true });
    assert.equal(out.exitCode, EXIT_FLAGGED);
    assert.match(out.stdout, /- pd-nixl: evidence unreadable: .*gptoss_itl8000_otl1000_mixed_pd-nixl\/conc64\.meta\.json: evidence\.schema is 99; this report reads schemas 1 and 2/);
  });

  it('flags a mean GPU utilization that rests on too few samples, naming the node, the count and the window', async () => {
    const gpu = (samples: number, expected: number) => ({
      value: { 'gpu-0': { role: 'prefill', mean: 87.4, gpus: 8, samples: 12 }, 'gpu-1': { role: 'decode', mean: 41.2, gpus: 8, samples } },
      unit: 'percent', query: 'q', byRole: { decode: 41.2, prefill: 87.4 }, samples: { query: 'q', expected, scrapeIntervalSeconds: 5 },
    });
    const out = await runReport(results({
      // dcgm-exporter at its 30 s default under a 60 s point: two readings.
      'pd-nixl': { ...GOOD_PD, evidence: evidence({ gpuUtilization: gpu(2, 12) }) },
      // Enough samples by count, but half the scrapes of the window are missing.
      'pd-multiconnector': { ...GOOD_PD, evidence: evidence({ gpuUtilization: gpu(5, 24) }) },
      'pd-prefill-lmcache': { ...GOOD_PD, evidence: evidence({ gpuUtilization: gpu(6, 12) }) },
    }), { json: false, chart: false });
    const warnings = out.stdout.split('\n').filter((l) => l.startsWith('- '));
    assert.deepEqual(warnings, [
      '- pd-nixl: GPU utilization of gpu-1 is a mean of 2 sample(s) per GPU (the 60 s window holds 12 at a 5 s scrape; at least 5 and half of those wanted): too few to judge by',
      '- pd-multiconnector: GPU utilization of gpu-1 is a mean of 5 sample(s) per GPU (the 60 s window holds 24 at a 5 s scrape; at least 5 and half of those wanted): too few to judge by',
    ]);
  });
});

describe('evidence contract (validateEvidence)', () => {
  const bad = (doc: Json, pattern: RegExp) => assert.throws(() => validateEvidence(doc, 'r/conc8.meta.json'), pattern);

  it('accepts what bench_evidence.py writes, and names the file and field of what it refuses', async () => {
    assert.equal((validateEvidence(evidence(), 'x').fields.kvTransferMeanMs as Json).unit, 'ms');
    bad('nope', /^Error: r\/conc8\.meta\.json: evidence\. is not a JSON object$/);
    bad(evidence({ kvTransferBytes: { value: -1, unit: 'bytes', query: 'q' } }), /r\/conc8\.meta\.json: evidence\.fields\.kvTransferBytes\.value is -1, not a number ≥ 0/);
    bad(evidence({ prefixCacheHitRate: { value: 1.5, unit: 'ratio', hits: 3, queries: 2, query: 'q' } }), /fields\.prefixCacheHitRate\.value is 1\.5, a ratio above 1/);
    bad(evidence({ kvTransferMeanMs: { value: 3, unit: 's', transfers: 1, query: 'q' } }), /fields\.kvTransferMeanMs\.unit is "s", expected ms/);
    bad(evidence({ kvTransferMeanMs: { value: 3, unit: 'ms', transfers: 1 } }), /fields\.kvTransferMeanMs\.query is absent: every value carries its query/);
    bad(evidence({ efaBytes: missing('') }), /fields\.efaBytes\.missing must be a non-empty reason/);
    bad(evidence({ gpuUtilization: undefined }), /fields\.gpuUtilization is absent or not an object/);
    bad(evidence({}, { roles: { nodes: { 'gpu-0': 'both' }, missing: null } }), /roles\.nodes\.gpu-0 is "both"; allowed: prefill, decode, collocated, idle, unknown/);
    bad(evidence({}, { roles: { nodes: null, missing: null } }), /roles\.missing must say why roles\.nodes is null/);
    bad(evidence({ efaBytes: { value: { 'gpu-0': { tx: 'x' } }, unit: 'bytes', query: {} } }), /fields\.efaBytes\.value\.gpu-0\.tx is neither a number ≥ 0 nor null/);
    bad(evidence({ efaBytes: { value: { 'gpu-0': { tx: 1, rx: 1, rdmaRead: 1, rdmaWrite: 1 } }, unit: 'bytes', query: {} } }),
      /fields\.efaBytes\.value\.gpu-0\.rdmaReadResp is neither a number ≥ 0 nor null/);
    const noSamples = evidence().fields.gpuUtilization;
    bad(evidence({ gpuUtilization: { ...noSamples, value: { 'gpu-0': { role: 'prefill', mean: 1, gpus: 8 } } } }), /fields\.gpuUtilization\.value\.gpu-0\.samples is not a count ≥ 0/);
    bad(evidence({ gpuUtilization: { ...noSamples, samples: undefined } }), /fields\.gpuUtilization\.samples lacks the expected count and the scrape interval/);
  });
});
