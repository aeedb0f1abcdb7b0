/**
 * Every file we generate for another program is read by that program, or by its rules, before a node ever does.
 *
 * The files are enumerated by running the code that writes them, not listed by hand: the node bootstrap as it runs
 * on a GPU node and on the Ray head (the node harness: every file under the node's root), the EFA writer's output,
 * the AWS CLI configs of deploy_cache.py (its AWS_CONFIGS), the serve bundle (renderServeBundle) and the user data. Each file must match one rule below:
 * a consumer check run here, a check in another test that names it, or a reason it is no other program's input. A
 * file no rule covers fails the test: a new generated file needs its consumer's check before it ships.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { before, describe, test } from 'node:test';
import { BOOTSTRAP_SCRIPTS_DIR, renderUserData } from '../lib/bootstrap';
import { parseClusterConfig } from '../lib/config/cluster-config';
import { PROMETHEUS_TARGETS_DIR, TEXTFILE_DIR, renderMonitoringEnv } from '../lib/monitoring';
import { renderServeBundle } from '../lib/serve';
import { context, runNode } from './bootstrap/node-harness';
import { aptUpdate } from './helpers/apt-check';
import {
  Problems, checkAwsCliConfigs, checkBashSourced, checkEnvironmentFile, checkPromMetrics, checkPrometheusConfig, checkSystemdUnit,
} from './helpers/consumer-checks';
import { checkGrafanaDashboard, checkGrafanaDashboardProviders, checkGrafanaDatasources } from './helpers/grafana-rules';
import { testKeys } from './helpers/test-keys';
import { readLikeDcgmExporter } from './monitoring/dcgm-reader';

const REPO = join(__dirname, '..');

/** A generated file: where it lands (relative to the node's root, or a pseudo-folder) and its text. */
interface Generated { readonly path: string; readonly text: string; readonly root?: string }

type Rule = { readonly match: RegExp; readonly consumer: string } & (
  | { readonly check: (file: Generated, all: readonly Generated[]) => Problems }
  | { readonly checkedBy: string }
  | { readonly notAnInput: string });

const UNITS = /^etc\/systemd\/system\/[^/]+\.service(\.d\/[^/]+\.conf)?$/;

const RULES: readonly Rule[] = [
  {
    match: UNITS, consumer: 'systemd (systemd-analyze verify)',
    // Beside the node's other units: ours may order themselves after each other.
    check: (f, all) => checkSystemdUnit(`/${f.path}`, Object.fromEntries(all.filter((g) => g.root === f.root && UNITS.test(g.path)).map((g) => [`/${g.path}`, g.text]))),
  },
  { match: /^etc\/default\/(prometheus|prometheus-node-exporter)$/, consumer: 'systemd EnvironmentFile= of the Debian unit, and sh', check: (f) => checkEnvironmentFile(f.text) },
  { match: /^etc\/p5-ray\/ray\.env$/, consumer: 'systemd EnvironmentFile= of ray.service', check: (f) => checkEnvironmentFile(f.text) },
  { match: /^(etc\/p5-ray\/cluster|opt\/p5-ray\/bin\/monitoring)\.env$/, consumer: 'bash (sourced by the bootstrap and the benchmark scripts)', check: (f) => checkBashSourced(f.text) },
  {
    match: /^(etc\/p5-ray|opt\/p5-ray\/bin)\/dcgm-counters\.csv$/, consumer: "dcgm-exporter (Go's encoding/csv)",
    check: (f) => { const r = readLikeDcgmExporter(f.text); return r.ok ? [] : [r.error]; },
  },
  {
    match: /^etc\/apt\/sources\.list\.d\/grafana\.list$/, consumer: 'apt (apt-get update against a repository the pinned key signs)',
    check: (f) => {
      const keyring = /signed-by=(\S+)\]/.exec(f.text)?.[1];
      if (!keyring || !f.root) return [`no signed-by keyring in ${f.text}`];
      const keys = testKeys();
      const r = aptUpdate(f.text, join(f.root, keyring), (release, inRelease) => keys.clearsign(release, inRelease, keys.signer));
      return r.status === 0 ? [] : [`apt-get update: ${r.output}`];
    },
  },
  { match: /^etc\/apt\/keyrings\/grafana\.asc$/, consumer: 'apt (signed-by keyring)', checkedBy: 'the grafana.list rule above, which apt reads it through; test/bootstrap/monitoring.test.ts' },
  {
    match: /^(etc\/grafana\/provisioning\/datasources\/p5-ray\.yaml|opt\/p5-ray\/bin\/grafana-datasource\.yaml)$/,
    consumer: "Grafana's datasource provisioning", check: (f) => checkGrafanaDatasources(f.text),
  },
  {
    match: /^(etc\/grafana\/provisioning\/dashboards\/p5-ray\.yaml|opt\/p5-ray\/bin\/grafana-dashboards\.yaml)$/,
    consumer: "Grafana's dashboard provisioning", check: (f) => checkGrafanaDashboardProviders(f.text),
  },
  { match: /^(var\/lib\/grafana\/dashboards\/p5-ray|opt\/p5-ray\/bin)\/p5ray-kv-study\.json$/, consumer: "Grafana's dashboard loader", check: (f) => checkGrafanaDashboard(f.text) },
  { match: /^var\/lib\/grafana\/dashboards\/ray\/[^/]+\.json$/, consumer: 'Grafana', notAnInput: "Ray's own generated dashboards, copied as Ray wrote them" },
  { match: /^opt\/p5-ray\/bin\/prometheus\.yml$/, consumer: 'Prometheus (promtool check config)', check: (f) => checkPrometheusConfig(f.text) },
  {
    // The installed config with the head's file_sd targets: promtool reads those through it.
    match: /^etc\/prometheus\/prometheus\.yml$/, consumer: 'Prometheus (promtool check config, with its file_sd targets)',
    check: (f) => checkPrometheusConfig(f.text.split(PROMETHEUS_TARGETS_DIR).join(join(f.root ?? '', PROMETHEUS_TARGETS_DIR))),
  },
  { match: /^etc\/prometheus\/p5-ray-targets\/[a-z]+\.json$/, consumer: 'Prometheus file_sd', checkedBy: 'the etc/prometheus/prometheus.yml rule above (promtool reads them through the config)' },
  {
    match: /^var\/lib\/prometheus\/node-exporter\/p5ray_efa\.prom$/, consumer: "node_exporter's textfile collector (promtool check metrics)",
    check: (f) => checkPromMetrics(f.text),
  },
  { match: /^user-data\/(gpu|head)\.sh$/, consumer: 'cloud-init and bash', checkedBy: 'test/bootstrap/user-data.test.ts (size, shellcheck)' },
  { match: /^aws-config\/[a-z]+\.conf$/, consumer: "the AWS CLI (its own config loader and s3 rules)", check: (f) => checkAwsCliConfigs({ [f.path.split('/')[1]]: f.text })[f.path.split('/')[1]] },
  { match: /^opt\/p5-ray\/bin\/[a-z-]+\.sh$/, consumer: 'bash', checkedBy: 'test/bootstrap/user-data.test.ts (shellcheck on the scripts and the rendered user data)' },
  { match: /^opt\/p5-ray\/bin\/[a-z_]+\.py$/, consumer: 'Python', checkedBy: 'test/bootstrap/python-files.test.ts (ruff, and each file run)' },
  { match: /^serve\/.+\.yaml$/, consumer: 'Ray Serve (ServeDeploySchema, LLMConfig)', checkedBy: 'test/serve/ray-validation.test.ts' },
  { match: /^serve\/builder\.py$/, consumer: 'Ray Serve (an application builder)', checkedBy: 'test/serve/ray-validation.test.ts' },
  { match: /^serve\/[a-z_]+\.sh$/, consumer: 'bash', checkedBy: 'test/serve/scripts.test.ts (shellcheck, and each script run)' },
  { match: /^serve\/(?!builder\.py)[a-z_]+\.py$/, consumer: 'Python', checkedBy: 'test/serve/scripts.test.ts and test/serve/evidence.test.ts' },
  { match: /^serve\/.+\.layout\.json$/, consumer: 'ours', notAnInput: 'the layout record, read by bench_evidence.py and the report (test/report)' },
  { match: /^etc\/p5-ray\/node-facts\.json$/, consumer: 'ours', notAnInput: 'the node facts, read by read_cluster.py, run_all.sh and the report' },
  { match: /^opt\/p5-ray\/serve\//, consumer: 'ours', notAnInput: "the harness's stand-in of the serve bundle (the real one is enumerated as serve/)" },
  { match: /^opt\/p5-ray\/state\//, consumer: 'ours', notAnInput: "the bootstrap's own state, logs and downloads" },
  { match: /^opt\/p5-ray\/bin\/__pycache__\//, consumer: 'Python', notAnInput: "Python's bytecode cache" },
  { match: /^opt\/dlami\/nvme\//, consumer: 'ours', notAnInput: 'data on the instance store: model weights, environments, wheels' },
  { match: /^tmp\/ray\//, consumer: 'Ray', notAnInput: "Ray's own files (the harness writes what Ray would)" },
  { match: /^var\/log\//, consumer: 'people', notAnInput: 'the bootstrap log' },
];

function filesUnder(root: string): Generated[] {
  const out: Generated[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) { if (!p.endsWith('/venv')) walk(p); } else out.push({ path: relative(root, p), text: readFileSync(p, 'utf8'), root });
    }
  };
  walk(root);
  return out;
}

/** deploy_cache.py's AWS CLI config of each purpose, from its own AWS_CONFIGS. */
function awsCliConfigs(): Generated[] {
  const r = spawnSync(join(REPO, '.test-venv', 'bin', 'python'), ['-c', 'import json, sys; sys.path.insert(0, sys.argv[1]); import deploy_cache as d; ' +
    'print(json.dumps({p: d.aws_config_text(p) for p in d.AWS_CONFIGS}))', join(REPO, 'lib', 'bootstrap', 'python')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return Object.entries(JSON.parse(r.stdout) as Record<string, string>).map(([purpose, text]) => ({ path: `aws-config/${purpose}.conf`, text }));
}

/** What efa-counters.sh, as p5-ray-efa-counters.service runs it, writes for node_exporter, from a stand-in sysfs. */
function efaTextfile(): Generated {
  const dir = mkdtempSync(join(tmpdir(), 'p5-efa-'));
  const counters = (/^EFA_COUNTERS='([^']*)'$/m.exec(renderMonitoringEnv())?.[1] ?? '').split(' ');
  for (const dev of ['rdmap16s27', 'rdmap17s27']) {
    const hw = join(dir, 'sys', dev, 'ports', '1', 'hw_counters');
    mkdirSync(hw, { recursive: true });
    for (const [i, c] of counters.entries()) writeFileSync(join(hw, c), `${1000 * (i + 1)}\n`);
  }
  const r = spawnSync('bash', [join(BOOTSTRAP_SCRIPTS_DIR, 'efa-counters.sh'), '--once', join(dir, 'out'), '5', ...counters],
    { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', P5RAY_SYS_INFINIBAND: join(dir, 'sys') } });
  assert.equal(r.status, 0, r.stderr);
  return { path: `${TEXTFILE_DIR.slice(1)}/p5ray_efa.prom`, text: readFileSync(join(dir, 'out', 'p5ray_efa.prom'), 'utf8') };
}

let generated: Generated[] = [];

describe('every file we generate for another program is checked by that program\'s rules', () => {
  before(async () => {
    const head = { STUB_HEAD_JSON: '{"ip":"10.0.0.10","port":6379,"instanceId":"i-0head","dashboardPort":8265}' };
    // The two nodes side by side (each runs in its own temp root). No GPU node of this head publishes its timing, so
    // the head looks once instead of polling a second for each: the same files, less waiting.
    const [gpu, cpuHead] = await Promise.all([
      runNode(context({ raw: { deployCache: true }, cacheBucketName: 'p5-ray-cache-123456789012-us-east-1' }), head),
      runNode(context({ role: 'head', isRayHead: true, gpuIndex: 0 }),
        { STUB_IP: '10.0.0.10', P5RAY_SCRAPE_WAIT: '2', P5RAY_EXPORTER_WAIT: '2', P5RAY_TIMING_WAIT: '0' }),
    ]);
    assert.equal(gpu.signals[0]?.Status, 'SUCCESS', gpu.stdout);
    assert.equal(cpuHead.signals[0]?.Status, 'SUCCESS', cpuHead.stdout);
    const serve = renderServeBundle(parseClusterConfig({})).map((f) => ({ path: `serve/${f.path}`, text: f.content }));
    const userData = [context(), context({ role: 'head', isRayHead: true, gpuIndex: 0 })]
      .map((ctx) => ({ path: `user-data/${ctx.role}.sh`, text: renderUserData(ctx) }));
    generated = [...filesUnder(gpu.root), ...filesUnder(cpuHead.root), efaTextfile(), ...awsCliConfigs(), ...serve, ...userData];
  });

  test('each generated file has exactly one rule: a consumer check, a test that checks it, or why it is no input', () => {
    const uncovered = [...new Set(generated.filter((f) => !RULES.some((r) => r.match.test(f.path))).map((f) => f.path))];
    assert.deepEqual(uncovered, [], 'files with no consumer check: add a rule to test/generated-files.test.ts');
    const ambiguous = [...new Set(generated.filter((f) => RULES.filter((r) => r.match.test(f.path)).length > 1).map((f) => f.path))];
    assert.deepEqual(ambiguous, []);
    for (const rule of RULES) {
      assert.ok(generated.some((f) => rule.match.test(f.path)), `rule ${rule.match} matches no generated file: stale`);
      if ('checkedBy' in rule) {
        const file = /^test\/\S+\.ts/.exec(rule.checkedBy)?.[0];
        assert.ok(file === undefined || existsSync(join(REPO, file)), `${rule.match}: ${file} does not exist`);
      }
    }
  });

  test('each file a consumer check covers passes it', () => {
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const f of generated) {
      const rule = RULES.find((r) => r.match.test(f.path));
      if (!rule || !('check' in rule) || seen.has(`${f.path}\0${f.text}`)) continue;
      seen.add(`${f.path}\0${f.text}`);
      for (const p of rule.check(f, generated)) problems.push(`${f.path} (${rule.consumer}): ${p}`);
    }
    assert.deepEqual(problems, []);
  });
});
