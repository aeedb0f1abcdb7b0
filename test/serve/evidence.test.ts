import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MONITORING } from '../../lib/catalog/monitoring';
import { validateEvidence } from '../../lib/report/evidence';
import { fakePrometheus, Series } from './fake-prometheus';
import { writeRayFixtures } from './ray-fixtures';
import { Json, writeBundle } from './helpers';

const REPO = resolve(__dirname, '..', '..');
const PYTHON = join(REPO, '.test-venv', 'bin', 'python');
const COLLECTOR = join(REPO, 'lib', 'serve', 'assets', 'bench_evidence.py');

let fixtures: string;
let facts: string;

/** A `ray` that prints Ray 2.58's own `ray list actors/nodes` output (ray-fixtures.ts), or fails with RAY_FAILS. */
function rayStub(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ray-stub-'));
  const path = join(dir, 'ray');
  writeFileSync(path, `#!/usr/bin/env bash
if [ -n "\${RAY_FAILS:-}" ]; then echo "the State API did not answer" >&2; exit 1; fi
case "$1 $2" in
  "list actors") cat "${fixtures}/\${ACTORS:-actors_pd}.json" ;;
  "list nodes") cat "${fixtures}/nodes.json" ;;
  *) exit 2 ;;
esac
`);
  chmodSync(path, 0o755);
  return path;
}

/** A layout record with the connectors of a configuration, as layout-record.ts writes them. */
function layout(kind: 'pd' | 'collocated', engines: Record<string, string[]>): string {
  const path = join(mkdtempSync(join(tmpdir(), 'layout-')), 'x.layout.json');
  writeFileSync(path, JSON.stringify({ schema: 1, kind, engines: Object.fromEntries(Object.entries(engines).map(([r, c]) => [r, { connectors: c }])) }));
  return path;
}

const PD_PREFILL_LMCACHE = { prefill_config: ['NixlConnector', 'LMCacheConnectorV1'], decode_config: ['NixlConnector'] };

function collect(url: string, args: readonly string[] = [], env: Record<string, string> = {}): { code: number; stderr: string; doc: Json } {
  const out = join(mkdtempSync(join(tmpdir(), 'evidence-')), 'evidence.json');
  const r = spawnSync(PYTHON, [COLLECTOR, 'collect', '--prometheus', url, '--start', '1000', '--end', '1060', '--settle', '20',
    '--gpu-nodes', '2', '--node-facts', facts, '--ray', rayStub(), '--out', out, ...args], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', ...env } });
  return { code: r.status ?? -1, stderr: r.stderr, doc: r.status === 0 ? JSON.parse(readFileSync(out, 'utf8')) : null };
}

const m = (name: string, node: string, labels: Record<string, string> = {}) => ({ __name__: name, node, job: 'ray', ...labels });

/**
 * A PD point from t=1000 to t=1060, read at 1000 and at 1080 (settle 20): prefill on gpu-0, decode on gpu-1 (the
 * Ray fixtures place them so). Samples before 1000 are the state at the start; those in the window are the point.
 */
const PD_POINT: Series[] = [
  { metric: m('ray_vllm_prefix_cache_queries_total', 'gpu-0', { WorkerId: 'p' }), samples: [[995, 100], [1075, 1100]] },
  { metric: m('ray_vllm_prefix_cache_hits_total', 'gpu-0', { WorkerId: 'p' }), samples: [[995, 10], [1075, 260]] },
  // Created during the window (Ray exports a counter from its first increment): counts from 0.
  { metric: m('ray_vllm_prefix_cache_queries_total', 'gpu-1', { WorkerId: 'd' }), samples: [[1075, 500]] },
  { metric: m('ray_vllm_external_prefix_cache_queries_total', 'gpu-0', { WorkerId: 'p' }), samples: [[995, 0], [1075, 1000]] },
  { metric: m('ray_vllm_external_prefix_cache_hits_total', 'gpu-0', { WorkerId: 'p' }), samples: [[995, 0], [1075, 400]] },
  // Decode's external hits are the tokens NIXL brought: not LMCache's, must not count.
  { metric: m('ray_vllm_external_prefix_cache_queries_total', 'gpu-1', { WorkerId: 'd' }), samples: [[1075, 500]] },
  { metric: m('ray_vllm_external_prefix_cache_hits_total', 'gpu-1', { WorkerId: 'd' }), samples: [[1075, 500]] },
  { metric: m('ray_vllm_nixl_bytes_transferred_sum', 'gpu-1', { WorkerId: 'd' }), samples: [[990, 1e6], [1075, 4_001_000_000]] },
  { metric: m('ray_vllm_nixl_xfer_time_seconds_sum', 'gpu-1', { WorkerId: 'd' }), samples: [[990, 1], [1075, 3]] },
  { metric: m('ray_vllm_nixl_xfer_time_seconds_count', 'gpu-1', { WorkerId: 'd' }), samples: [[990, 10], [1075, 410]] },
  { metric: m('p5ray_efa_tx_bytes_total', 'gpu-0', { device: 'rdmap0s0', port: '1', job: 'node' }), samples: [[995, 5], [1075, 1005]] },
  { metric: m('p5ray_efa_tx_bytes_total', 'gpu-0', { device: 'rdmap1s0', port: '1', job: 'node' }), samples: [[995, 0], [1075, 2000]] },
  // NIXL pulls: decode READs (its rdma_read_bytes), prefill serves the reads (its rdma_read_resp_bytes).
  { metric: m('p5ray_efa_rdma_read_bytes_total', 'gpu-1', { device: 'rdmap0s0', port: '1', job: 'node' }), samples: [[995, 0], [1075, 3e9]] },
  { metric: m('p5ray_efa_rdma_read_resp_bytes_total', 'gpu-0', { device: 'rdmap0s0', port: '1', job: 'node' }), samples: [[995, 7], [1075, 3e9 + 7]] },
  { metric: m('DCGM_FI_DEV_GPU_UTIL', 'gpu-0', { gpu: '0', job: 'dcgm' }), samples: [[1010, 80], [1050, 100]] },
  { metric: m('DCGM_FI_DEV_GPU_UTIL', 'gpu-0', { gpu: '1', job: 'dcgm' }), samples: [[1005, 60], [1010, 60], [1050, 60]] },
  { metric: m('DCGM_FI_DEV_GPU_UTIL', 'gpu-1', { gpu: '0', job: 'dcgm' }), samples: [[1010, 20], [1050, 40], [1070, 99]] },
];

describe('benchmark evidence (bench_evidence.py against a fake Prometheus)', () => {
  const stops: (() => void)[] = [];
  before(() => {
    fixtures = writeRayFixtures('gptoss-pd-nixl');
    facts = mkdtempSync(join(tmpdir(), 'node-facts-'));
    for (const i of [0, 1]) writeFileSync(join(facts, `gpu-${i}.json`), JSON.stringify({ role: 'gpu', index: i, privateIp: `10.0.1.${12 + i}` }));
  });
  after(() => stops.forEach((stop) => stop()));
  const serve = async (series: readonly Series[]) => {
    const p = await fakePrometheus(series);
    stops.push(p.stop);
    return p.url;
  };

  it('names the metrics of the monitoring contract: EFA and DCGM names, node label, jobs, scrape interval', () => {
    const dump = execFileSync(PYTHON, ['-c', 'import json, sys; sys.path.insert(0, sys.argv[1]); import bench_evidence as b; ' +
      'print(json.dumps({"metrics": b.METRICS, "efa": b.EFA_COUNTERS, "node": b.NODE_LABEL, "jobs": b.JOBS, "scrape": b.SCRAPE_INTERVAL_S}))',
    join(REPO, 'lib', 'serve', 'assets')], { encoding: 'utf8' });
    const py = JSON.parse(dump);
    const efa = MONITORING.efaMetrics;
    assert.deepEqual(Object.fromEntries(Object.entries(py.efa as Record<string, string>).map(([k, key]) => [k, py.metrics[key]])),
      { tx: efa.txBytes, rx: efa.rxBytes, rdmaRead: efa.rdmaReadBytes, rdmaReadResp: efa.rdmaReadRespBytes, rdmaWrite: efa.rdmaWriteBytes,
        rdmaWriteRecv: efa.rdmaWriteRecvBytes });
    assert.equal(py.metrics.gpuUtilization, MONITORING.gpuMetrics.utilization);
    assert.equal(py.node, MONITORING.nodeLabel);
    assert.equal(py.scrape, MONITORING.scrapeIntervalSeconds);
    for (const [job, name] of Object.entries(py.jobs as Record<string, string>)) assert.equal(name, (MONITORING.jobs as Record<string, string>)[job], job);
    // vLLM's names as Ray 2.58's own Serve LLM dashboard queries them (in the installed wheel).
    const dashboards = readFileSync(join(REPO, '.test-venv', 'lib', 'python3.11', 'site-packages', 'ray', 'dashboard', 'modules', 'metrics',
      'dashboards', 'serve_llm_dashboard_panels.py'), 'utf8');
    for (const [key, name] of Object.entries(py.metrics as Record<string, string>)) {
      if (name.startsWith('ray_vllm_') && key !== 'nixlFailedTransfers') assert.ok(dashboards.includes(`"${name}`) || dashboards.includes(`${name}{`), name);
    }
  });

  it('subtracts each counter series at the window\'s start from its value at the end, by node, with roles from Ray\'s state API', async () => {
    const url = await serve(PD_POINT);
    const r = collect(url, ['--layout', layout('pd', PD_PREFILL_LMCACHE)]);
    assert.equal(r.code, 0, r.stderr);
    const e = validateEvidence(r.doc, 'evidence.json');
    const f = r.doc.fields;
    assert.deepEqual(r.doc.roles.nodes, { 'gpu-0': 'prefill', 'gpu-1': 'decode' });
    assert.deepEqual(r.doc.window, { start: '1970-01-01T00:16:40.000Z', end: '1970-01-01T00:17:40.000Z', seconds: 60, endQueriedAt: '1970-01-01T00:18:00.000Z', settleSeconds: 20 });
    // (260 - 10) / ((1100 - 100) + 500)
    assert.equal(f.prefixCacheHitRate.value, 250 / 1500);
    assert.deepEqual(f.prefixCacheHitRate.byNode, { 'gpu-0': { hits: 250, queries: 1000 }, 'gpu-1': { hits: 0, queries: 500 } });
    assert.equal(f.kvTransferBytes.value, 4_000_000_000);
    assert.equal(f.kvTransferMeanMs.value, 5);
    assert.equal(f.kvTransferMeanMs.transfers, 400);
    assert.equal(f.kvTransferFailures.value, 0);
    assert.match(f.kvTransferFailures.note, /from its first failure/);
    // Prefill's external hits only: 400 / 1000; decode's 500/500 came over NIXL.
    assert.equal(f.lmcacheHitRate.value, 0.4);
    assert.match(f.lmcacheHitRate.via, /prefill engine/);
    // The prefill node's KV leaves as responses to decode's reads: its rdmaReadResp, not its rdmaRead.
    const none = { tx: null, rx: null, rdmaRead: null, rdmaReadResp: null, rdmaWrite: null, rdmaWriteRecv: null };
    assert.deepEqual(f.efaBytes.value, { 'gpu-0': { ...none, tx: 3000, rdmaReadResp: 3e9 }, 'gpu-1': { ...none, rdmaRead: 3e9 } });
    assert.match(f.efaBytes.counters.tx, /not known to include RDMA/);
    assert.match(f.efaBytes.counters.rdmaReadResp, /served to a remote reader/);
    // The fewest samples over each node's GPUs: gpu-0's GPUs have 2 and 3 samples in (1000, 1060].
    assert.deepEqual(f.gpuUtilization.value, { 'gpu-0': { role: 'prefill', mean: 75, gpus: 2, samples: 2 }, 'gpu-1': { role: 'decode', mean: 30, gpus: 1, samples: 2 } });
    assert.deepEqual(f.gpuUtilization.samples, { query: 'count_over_time(DCGM_FI_DEV_GPU_UTIL[60s]) at 1060.000, the fewest over each node\'s GPUs', expected: 12, scrapeIntervalSeconds: 5 });
    assert.deepEqual(f.gpuUtilization.byRole, { decode: 30, prefill: 75 });
    assert.match(f.gpuUtilization.query, /^avg_over_time\(DCGM_FI_DEV_GPU_UTIL\[60s\]\) at 1060\.000/);
    assert.equal(e.prometheus.reachable, true);
    // pd_multiconnector: LMCache on both sides, but decode's external hits are what NIXL brought; only prefill counts.
    const multi = collect(url, ['--layout', layout('pd', { prefill_config: ['LMCacheConnectorV1', 'NixlConnector'], decode_config: ['LMCacheConnectorV1', 'NixlConnector'] })]);
    assert.equal(multi.doc.fields.lmcacheHitRate.value, 0.4);
    assert.deepEqual(Object.keys(multi.doc.fields.lmcacheHitRate.byNode), ['gpu-0']);
  });

  it('on one machine, where prefill and decode share a node, tells their engines apart by the Serve replica id vLLM tags every metric with', async () => {
    // vLLM 0.26 adds ReplicaId (the replica actor name's last part) to every metric it logs through Ray.
    const r1 = (name: string, replica: string, samples: [number, number][]) => ({ metric: m(name, 'gpu-0', { ReplicaId: replica }), samples });
    const url = await serve([
      r1('ray_vllm_prefix_cache_queries_total', 'p1', [[995, 0], [1075, 1000]]),
      r1('ray_vllm_prefix_cache_hits_total', 'p1', [[995, 0], [1075, 300]]),
      r1('ray_vllm_external_prefix_cache_queries_total', 'p1', [[995, 0], [1075, 1000]]),
      r1('ray_vllm_external_prefix_cache_hits_total', 'p1', [[995, 0], [1075, 250]]),
      r1('ray_vllm_external_prefix_cache_queries_total', 'd1', [[995, 0], [1075, 700]]),
      r1('ray_vllm_external_prefix_cache_hits_total', 'd1', [[995, 0], [1075, 700]]),
      r1('ray_vllm_nixl_bytes_transferred_sum', 'd1', [[995, 0], [1075, 5e6]]),
    ]);
    const r = collect(url, ['--layout', layout('pd', PD_PREFILL_LMCACHE), '--gpu-nodes', '1'], { ACTORS: 'actors_pd_one_node' });
    assert.equal(r.code, 0, r.stderr);
    validateEvidence(r.doc, 'evidence.json');
    assert.deepEqual(r.doc.roles.nodes, { 'gpu-0': 'decode+prefill' });
    assert.deepEqual(r.doc.roles.replicas, { p1: 'prefill', d1: 'decode' });
    // Prefill's external hits only (250 / 1000): decode's 700 came over NIXL, on the same node.
    assert.equal(r.doc.fields.lmcacheHitRate.value, 0.25);
    assert.equal(r.doc.fields.kvTransferBytes.value, 5e6);
    // Without the replica tag the node alone cannot tell them apart: missing, never a mix of both.
    const untagged = await serve([
      { metric: m('ray_vllm_external_prefix_cache_queries_total', 'gpu-0'), samples: [[995, 0], [1075, 1700]] },
      { metric: m('ray_vllm_external_prefix_cache_hits_total', 'gpu-0'), samples: [[995, 0], [1075, 950]] },
    ]);
    const u = collect(untagged, ['--layout', layout('pd', PD_PREFILL_LMCACHE), '--gpu-nodes', '1'], { ACTORS: 'actors_pd_one_node' });
    assert.match(u.doc.fields.lmcacheHitRate.missing, /no series of ray_vllm_external_prefix_cache_queries_total from an engine of role prefill/);
  });

  it('records a missing series, a counter reset and an absent NIXL histogram each with its reason, never as a silent 0', async () => {
    const reset = PD_POINT.filter((s) => !['DCGM_FI_DEV_GPU_UTIL', 'ray_vllm_nixl_bytes_transferred_sum', 'ray_vllm_nixl_xfer_time_seconds_sum',
      'ray_vllm_nixl_xfer_time_seconds_count'].includes(s.metric.__name__))
      .map((s) => (s.metric.__name__ === 'p5ray_efa_tx_bytes_total' && s.metric.device === 'rdmap1s0' ? { ...s, samples: [[995, 9000], [1075, 10]] as const } : s));
    const url = await serve(reset);
    const r = collect(url, ['--layout', layout('collocated', { llm_config: [] })]);
    assert.equal(r.code, 0, r.stderr);
    validateEvidence(r.doc, 'evidence.json');
    const f = r.doc.fields;
    assert.match(f.gpuUtilization.missing, /no series of DCGM_FI_DEV_GPU_UTIL \(is dcgm-exporter scraped as job dcgm\?\)/);
    assert.match(f.efaBytes.missing, /p5ray_efa_tx_bytes_total\{.*rdmap1s0.*\} went from 9000\.0 to 10\.0: reset in the window/);
    assert.match(r.stderr, /warning: evidence: efaBytes: .*reset in the window/);
    // vLLM's series are there, NIXL's are not: no transfer happened, which is a measured 0 with its explanation.
    assert.equal(f.kvTransferBytes.value, 0);
    assert.match(f.kvTransferBytes.note, /no engine recorded a NIXL transfer/);
    assert.match(f.kvTransferMeanMs.missing, /no NIXL transfer completed/);
    assert.match(f.lmcacheHitRate.missing, /not applicable: no engine of this collocated configuration uses LMCache/);
  });

  it('without any vLLM series, KV bytes are missing, not 0; without Ray\'s state API, node roles are missing', async () => {
    const url = await serve(PD_POINT.filter((s) => !s.metric.__name__.startsWith('ray_vllm_')));
    const r = collect(url, ['--layout', layout('pd', PD_PREFILL_LMCACHE)], { RAY_FAILS: '1' });
    assert.equal(r.code, 0, r.stderr);
    validateEvidence(r.doc, 'evidence.json');
    const f = r.doc.fields;
    assert.match(f.kvTransferBytes.missing, /nor of any vLLM metric: the engines' metrics were not scraped/);
    assert.match(f.prefixCacheHitRate.missing, /no series of ray_vllm_prefix_cache_queries_total/);
    assert.equal(r.doc.roles.nodes, null);
    assert.match(r.doc.roles.missing, /cannot read Ray's state API: ray list nodes exited 1: the State API did not answer/);
    assert.match(f.lmcacheHitRate.missing, /^node roles unknown .*which nothing exports under Ray Serve/);
    assert.equal(f.gpuUtilization.value['gpu-0'].role, 'unknown');
    assert.match(r.stderr, /warning: evidence: node roles unknown/);
  });

  it('Prometheus down: exits 0 with every field missing and a warning line', () => {
    const r = collect('http://127.0.0.1:9', ['--layout', layout('pd', PD_PREFILL_LMCACHE)]);
    assert.equal(r.code, 0, r.stderr);
    const e = validateEvidence(r.doc, 'evidence.json');
    assert.equal(e.prometheus.reachable, false);
    assert.match(r.stderr, /^warning: evidence: Prometheus http:\/\/127\.0\.0\.1:9 unreachable .*: this point has no metric evidence$/m);
    for (const [name, field] of Object.entries(r.doc.fields as Record<string, Json>)) assert.match(field.missing, /^Prometheus not reachable: /, name);
  });

  it('the bundle ships the collector as written in lib/serve/assets', () => {
    const bundle = writeBundle({ profile: 'reference' });
    assert.equal(readFileSync(join(bundle, 'bench_evidence.py'), 'utf8'), readFileSync(COLLECTOR, 'utf8'));
  });
});
