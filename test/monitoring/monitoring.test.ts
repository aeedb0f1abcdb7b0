/**
 * The observability stack's files, checked with the real tools: promtool (Debian's `prometheus` package, installed
 * by scripts/setup.sh) on prometheus.yml, the file_sd files the head writes, every PromQL expression of the study
 * dashboard and the EFA writer's output; Grafana's provisioning parsed; every metric a panel queries on the
 * allow-list of names checked upstream, the vLLM ones against Ray 2.58.0's own Serve LLM dashboard in the wheel.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { BOOTSTRAP_PYTHON_DIR, BOOTSTRAP_SCRIPTS_DIR } from '../../lib/bootstrap';
import { MONITORING, efaHwCounter } from '../../lib/catalog/monitoring';
import { PORTS } from '../../lib/catalog/ports';
import {
  ALLOWED_METRICS, ALLOWED_METRIC_NAMES, DATASOURCE_NAME, DATASOURCE_UID, DCGM_COUNTERS, GRAFANA_PATHS, PROMETHEUS_TARGETS_DIR,
  SCRAPE_JOBS, STUDY_DASHBOARD_UID, csvField, monitoringAssetFiles, renderDcgmCounters, renderGrafanaDashboardProviders,
  renderGrafanaDatasource, renderMonitoringEnv, renderPrometheusConfig, studyDashboard,
} from '../../lib/monitoring';
import { readLikeDcgmExporter } from './dcgm-reader';

const ROOT = join(__dirname, '..', '..');
const RAY_LLM_PANELS = join(ROOT, '.test-venv', 'lib', 'python3.11', 'site-packages', 'ray', 'dashboard', 'modules', 'metrics',
  'dashboards', 'serve_llm_dashboard_panels.py');

function promtool(args: string[], input?: string) {
  const r = spawnSync('promtool', args, { encoding: 'utf8', input });
  assert.ok(!r.error, `promtool not found (scripts/setup.sh installs Debian's prometheus package): ${r.error}`);
  return r;
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'p5-mon-'));
}

interface Panel { id: number; title: string; datasource: { uid: string }; targets: Array<{ expr: string; refId: string }> }
const dashboard = studyDashboard() as { uid: string; title: string; panels: Panel[]; templating: { list: Array<{ name: string }> } };
const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, expr: t.expr })));

/** The expression with Grafana's variables replaced by what Prometheus would see. */
function concrete(expr: string): string {
  return expr.replace(/\$__rate_interval/g, '1m').replace(/"\$[a-z_]+"/g, '".+"');
}

const PROMQL_WORDS = new Set([
  'sum', 'avg', 'max', 'min', 'count', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'rate', 'increase',
  'irate', 'histogram_quantile', 'and', 'or', 'unless', 'offset', 'bool', 'label_values',
]);

/** Every metric name an expression selects: identifiers outside strings, label lists and ranges, not PromQL words. */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"[^"]*"/g, '""')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '')
    .replace(/\[[^\]]*\]/g, '');
  return [...stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)].map((m) => m[0]).filter((w) => !PROMQL_WORDS.has(w));
}

describe('Prometheus configuration', () => {
  test('passes promtool check config, with the jobs and interval of the monitoring contract', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'prometheus.yml'), renderPrometheusConfig());
    const r = promtool(['check', 'config', join(dir, 'prometheus.yml')]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const cfg = parse(renderPrometheusConfig());
    assert.equal(cfg.global.scrape_interval, `${MONITORING.scrapeIntervalSeconds}s`);
    assert.deepEqual(cfg.scrape_configs.map((j: { job_name: string }) => j.job_name), ['prometheus', 'ray', 'node', 'dcgm']);
    assert.deepEqual(SCRAPE_JOBS, Object.values(MONITORING.jobs));
  });

  test('the targets the head writes from the node facts pass promtool, labelled head/gpu-N on the contract ports', () => {
    const dir = tmp();
    const targets = join(dir, 'targets');
    const facts = [0, 1].map((i) => {
      const f = join(dir, `gpu-${i}.json`);
      writeFileSync(f, JSON.stringify({ role: 'gpu', index: i, privateIp: `10.0.1.${i + 1}` }));
      return f;
    });
    const ports = `ray=${PORTS.rayMetrics},node=${PORTS.nodeExporter},dcgm=${PORTS.dcgmExporter},prometheus=${PORTS.prometheus}`;
    const r = spawnSync('python3', [join(BOOTSTRAP_PYTHON_DIR, 'monitoring.py'), 'targets', '--out', targets, '--head-name', 'head',
      '--head-ip', '10.0.0.10', '--ports', ports, ...facts], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'prometheus=1 ray=3 node=2 dcgm=2');
    const read = (job: string) => JSON.parse(readFileSync(join(targets, `${job}.json`), 'utf8'));
    assert.deepEqual(read('ray'), [
      { targets: ['10.0.0.10:8080'], labels: { node: 'head' } },
      { targets: ['10.0.1.1:8080'], labels: { node: 'gpu-0' } },
      { targets: ['10.0.1.2:8080'], labels: { node: 'gpu-1' } },
    ]);
    assert.deepEqual(read('dcgm').map((g: { labels: { node: string } }) => g.labels[MONITORING.nodeLabel]), ['gpu-0', 'gpu-1']);
    assert.deepEqual(read('node')[1].targets, [`10.0.1.2:${PORTS.nodeExporter}`]);
    // promtool reads every file_sd file a config names: point the rendered config at these.
    writeFileSync(join(dir, 'prometheus.yml'), renderPrometheusConfig().split(PROMETHEUS_TARGETS_DIR).join(targets));
    const check = promtool(['check', 'config', join(dir, 'prometheus.yml')]);
    assert.equal(check.status, 0, check.stdout + check.stderr);
  });
});

describe('the scrape check (monitoring.py check)', () => {
  const py = (args: string[]) => spawnSync('python3', [join(BOOTSTRAP_PYTHON_DIR, 'monitoring.py'), ...args], { encoding: 'utf8' });

  function cluster(listed: string[]) {
    const dir = tmp();
    const fact = join(dir, 'gpu-0.json');
    writeFileSync(fact, JSON.stringify({ role: 'gpu', index: 0, privateIp: '10.0.1.1' }));
    const sd = join(dir, 'sd.json');
    writeFileSync(sd, JSON.stringify([{ labels: { job: 'ray' }, targets: listed }]));
    const targets = join(dir, 'targets');
    const w = py(['targets', '--out', targets, '--head-name', 'head', '--head-ip', '10.0.0.10', '--ray-sd', sd,
      '--ports', 'ray=8080,node=9100,dcgm=9400,prometheus=9090', fact]);
    assert.equal(w.status, 0, w.stderr);
    const active = (['prometheus', 'ray', 'node', 'dcgm'] as const).flatMap((job) =>
      JSON.parse(readFileSync(join(targets, `${job}.json`), 'utf8')).map((g: { targets: string[]; labels: { node: string } }) =>
        ({ labels: { job, instance: g.targets[0], node: g.labels.node }, health: 'up' })));
    const api = join(dir, 'api.json');
    writeFileSync(api, JSON.stringify({ status: 'success', data: { activeTargets: active } }));
    return py(['check', '--targets-dir', targets, '--api', api, '--ray-sd', sd, '--ray-port', '8080']);
  }

  test('passes when every target is up and Ray lists every node\'s agent, scraping its extra head addresses too', () => {
    const r = cluster(['10.0.0.10:8080', '10.0.1.1:8080', '10.0.0.10:44227']);
    assert.equal(r.status, 0, r.stdout);
    assert.equal(r.stdout.trim(), 'all targets up: prometheus 1, ray 3, node 1, dcgm 1');
  });

  test('fails naming the agent Ray does not list (a node Ray lost)', () => {
    const r = cluster(['10.0.0.10:8080']);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /Ray's service-discovery file lacks the metrics agents \['10\.0\.1\.1:8080'\]/);
  });
});

describe('Grafana provisioning', () => {
  test('the datasource is Prometheus on the head under the name Ray\'s dashboards select', () => {
    const ds = parse(renderGrafanaDatasource());
    assert.equal(ds.apiVersion, 1);
    assert.deepEqual(ds.datasources.map((d: { name: string; uid: string; type: string; url: string }) => [d.name, d.uid, d.type, d.url]),
      [[DATASOURCE_NAME, DATASOURCE_UID, 'prometheus', MONITORING.prometheusUrlOnHead]]);
    assert.equal(DATASOURCE_NAME, 'Prometheus');
  });

  test('the dashboard providers read our folder and the copies of Ray\'s generated dashboards', () => {
    const p = parse(renderGrafanaDashboardProviders());
    assert.deepEqual(p.providers.map((x: { type: string; options: { path: string } }) => [x.type, x.options.path]),
      [['file', GRAFANA_PATHS.dashboards], ['file', GRAFANA_PATHS.rayDashboards]]);
  });

  test('the study dashboard has a uid, a title, unique panel ids and only our datasource and defined variables', () => {
    assert.equal(dashboard.uid, STUDY_DASHBOARD_UID);
    assert.ok(dashboard.title.length > 0);
    assert.ok(dashboard.panels.length >= 10);
    assert.equal(new Set(dashboard.panels.map((p) => p.id)).size, dashboard.panels.length);
    const defined = new Set(dashboard.templating.list.map((v) => v.name));
    for (const p of dashboard.panels) {
      assert.equal(p.datasource.uid, DATASOURCE_UID, p.title);
      assert.ok(p.targets.length > 0, p.title);
      for (const t of p.targets) {
        for (const [, v] of t.expr.matchAll(/\$([a-z_]+)/g)) {
          assert.ok(v.startsWith('__') || defined.has(v), `${p.title}: $${v} is not a dashboard variable`);
        }
      }
    }
    const file = monitoringAssetFiles()['p5ray-kv-study.json'];
    assert.deepEqual(JSON.parse(file), dashboard);
  });

  test('covers the study: TTFT, TPOT, throughput, prefix cache, KV cache, KV transfer, LMCache, EFA, prefill vs decode GPUs', () => {
    const all = exprs.map((e) => e.expr).join('\n');
    for (const m of ['ray_vllm_time_to_first_token_seconds_bucket', 'ray_vllm_request_time_per_output_token_seconds_bucket',
      'ray_vllm_generation_tokens_total', 'ray_vllm_prefix_cache_hits_total', 'ray_vllm_kv_cache_usage_perc',
      'ray_vllm_nixl_bytes_transferred_sum', 'ray_vllm_nixl_xfer_time_seconds_sum', 'ray_vllm_external_prefix_cache_hits_total',
      ...Object.values(MONITORING.efaMetrics), MONITORING.gpuMetrics.utilization]) {
      assert.ok(all.includes(`${m}{`), m);
    }
    assert.match(all, /\$prefill_nodes/);
    assert.match(all, /\$decode_nodes/);
  });

  test('every PromQL expression parses (promtool check rules)', () => {
    const dir = tmp();
    const rules = { groups: [{ name: 'study', rules: exprs.map((e, i) => ({ record: `p5ray:panel_${i}`, expr: concrete(e.expr) })) }] };
    writeFileSync(join(dir, 'rules.yml'), JSON.stringify(rules));
    const r = promtool(['check', 'rules', join(dir, 'rules.yml')]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`SUCCESS: ${exprs.length} rules found`));
  });
});

describe('metric names', () => {
  test('every metric a panel queries is on the allow-list of names checked upstream', () => {
    const unknown = exprs.flatMap((e) => metricNames(e.expr).filter((m) => !ALLOWED_METRIC_NAMES.has(m)).map((m) => `${e.panel}: ${m}`));
    assert.deepEqual(unknown, []);
    assert.ok(metricNames('sum by (node) (rate(foo_total{a="b"}[1m])) / on(x) group_left(y) bar{}').join() === 'foo_total,bar');
  });

  test('every vLLM name on the allow-list is one Ray 2.58.0\'s own Serve LLM dashboard queries', () => {
    const panels = readFileSync(RAY_LLM_PANELS, 'utf8');
    const vllm = ALLOWED_METRICS.filter((m) => m.name.startsWith('ray_vllm_'));
    assert.ok(vllm.length >= 10);
    for (const { name } of vllm) {
      const base = name.replace(/_(bucket|sum|count)$/, '');
      assert.ok(panels.includes(name) || panels.includes(`"${base}"`), `${name} is not in ${RAY_LLM_PANELS}`);
    }
    assert.ok(panels.includes('ray_serve_deployment_request_counter_total'));
  });

  test('every DCGM name a panel queries is a field of the counters file dcgm-exporter runs with', () => {
    const fields = new Set(DCGM_COUNTERS.map(([f]) => f));
    const used = exprs.flatMap((e) => metricNames(e.expr)).filter((m) => m.startsWith('DCGM_'));
    assert.ok(used.length > 0);
    for (const m of used) assert.ok(fields.has(m), m);
    for (const m of Object.values(MONITORING.gpuMetrics)) assert.ok(fields.has(m), m);
  });
});

/**
 * The DCGM fields go-dcgm knows, by name (NVIDIA/go-dcgm@ec245c09fe3e, the version dcgm-exporter 4.5.3-4.8.2's go.mod
 * pins: pkg/dcgm/const_fields.go). dcgm-exporter looks every name of the counters file up there (GetFieldID) and ends
 * on a name it does not know (counter_config.go ExtractCounters: "could not find DCGM field").
 */
const GO_DCGM_FIELDS: Readonly<Record<string, number>> = {
  DCGM_FI_DEV_GPU_TEMP: 150, DCGM_FI_DEV_POWER_USAGE: 155, DCGM_FI_DEV_GPU_UTIL: 203, DCGM_FI_DEV_XID_ERRORS: 230,
  DCGM_FI_DEV_FB_FREE: 251, DCGM_FI_DEV_FB_USED: 252, DCGM_FI_PROF_SM_ACTIVE: 1002, DCGM_FI_PROF_PIPE_TENSOR_ACTIVE: 1004,
  DCGM_FI_PROF_DRAM_ACTIVE: 1005, DCGM_FI_PROF_PCIE_TX_BYTES: 1009, DCGM_FI_PROF_PCIE_RX_BYTES: 1010,
  DCGM_FI_PROF_NVLINK_TX_BYTES: 1011, DCGM_FI_PROF_NVLINK_RX_BYTES: 1012,
};

describe('dcgm-exporter counters file, read by Go\'s encoding/csv as dcgm-exporter 4.5.3-4.8.2 reads it', () => {
  test('every record has the three fields of the table, type and help intact', () => {
    const read = readLikeDcgmExporter(renderDcgmCounters());
    assert.equal(read.error, '');
    assert.deepEqual(read.records, DCGM_COUNTERS.map((r) => [...r]));
    assert.equal(monitoringAssetFiles()['dcgm-counters.csv'], renderDcgmCounters());
  });

  test('a comma or a quote in a help text is quoted, right after the comma, so Go reads one field', () => {
    const help = 'The rate of data sent, headers included, "raw" bytes';
    const read = readLikeDcgmExporter(['DCGM_FI_DEV_GPU_UTIL', 'gauge', help].map(csvField).join(',') + '\n');
    assert.deepEqual(read.records, [['DCGM_FI_DEV_GPU_UTIL', 'gauge', help]]);
    // What the reader refuses, as dcgm-exporter does (it then exits): the unquoted comma, and a quote after a space.
    assert.match(readLikeDcgmExporter('# c\nDCGM_FI_DEV_GPU_UTIL, gauge, ok\nDCGM_FI_DEV_FB_USED, gauge, sent, headers included\n').error,
      /record on line 3: wrong number of fields/);
    assert.match(readLikeDcgmExporter('DCGM_FI_DEV_GPU_UTIL, gauge, "a, b"\n').error, /bare " in non-quoted-field/);
    assert.throws(() => csvField('#x'), /may not start with '#'/);
  });

  test('every field is one go-dcgm knows, and every type one dcgm-exporter accepts', () => {
    for (const [field, type] of DCGM_COUNTERS) {
      assert.ok(field in GO_DCGM_FIELDS, `${field} is not a DCGM field of go-dcgm`);
      assert.ok(['gauge', 'counter'].includes(type), field);
    }
  });

  test('dcgm-exporter collects at the scrape interval (-c), not its 30 s default', () => {
    assert.equal(MONITORING.dcgmCollectIntervalMs, MONITORING.scrapeIntervalSeconds * 1000);
    assert.match(renderMonitoringEnv(), new RegExp(`^DCGM_COLLECT_INTERVAL_MS='${MONITORING.scrapeIntervalSeconds * 1000}'$`, 'm'));
  });
});

describe('EFA counters writer', () => {
  test('writes the contract\'s metric names per device and port, in a format promtool accepts', () => {
    const dir = tmp();
    const sys = join(dir, 'sys');
    // The port counters of the EFA driver (amzn-drivers efa_verbs.c EFA_DEFINE_PORT_STATS), a few of them.
    const counters = { tx_bytes: 11, rx_bytes: 22, rdma_read_bytes: 33, rdma_read_resp_bytes: 34, rdma_write_bytes: 44, rdma_write_recv_bytes: 45, tx_pkts: 5 };
    for (const dev of ['rdmap16s27', 'rdmap17s27']) {
      const hw = join(sys, dev, 'ports', '1', 'hw_counters');
      mkdirSync(hw, { recursive: true });
      // A device without the RDMA_WRITE capability has no rdma_write_* counters.
      for (const [c, v] of Object.entries(counters)) if (dev === 'rdmap17s27' || !c.startsWith('rdma_write')) writeFileSync(join(hw, c), `${v}\n`);
    }
    const out = join(dir, 'textfile');
    // The counters as the unit passes them: monitoring.env's EFA_COUNTERS.
    const env = /^EFA_COUNTERS='([^']*)'$/m.exec(renderMonitoringEnv())?.[1] ?? '';
    assert.deepEqual(env.split(' '), Object.values(MONITORING.efaMetrics).map(efaHwCounter));
    const r = spawnSync('bash', [join(BOOTSTRAP_SCRIPTS_DIR, 'efa-counters.sh'), '--once', out, '5', ...env.split(' ')],
      { encoding: 'utf8', env: { ...process.env, P5RAY_SYS_INFINIBAND: sys } });
    assert.equal(r.status, 0, r.stderr);
    const text = readFileSync(join(out, 'p5ray_efa.prom'), 'utf8');
    for (const [key, name] of Object.entries(MONITORING.efaMetrics)) {
      assert.match(text, new RegExp(`^${name}\\{device="rdmap17s27",port="1"\\} \\d+$`, 'm'), key);
    }
    assert.match(text, /^p5ray_efa_rdma_read_resp_bytes_total\{device="rdmap16s27",port="1"\} 34$/m);
    assert.match(text, /^p5ray_efa_rdma_write_recv_bytes_total\{device="rdmap17s27",port="1"\} 45$/m);
    assert.doesNotMatch(text, /rdma_write_bytes_total\{device="rdmap16s27"/);
    assert.doesNotMatch(text, /tx_pkts/);
    const lint = promtool(['check', 'metrics'], text);
    assert.equal(lint.status, 0, lint.stdout + lint.stderr);
  });
});
