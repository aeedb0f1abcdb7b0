/**
 * The observability stack as the bootstrap installs it (monitoring-steps.sh), against stub commands: the exporters
 * on GPU nodes, Prometheus and Grafana on the Ray head, and the readiness gate that holds ClusterReady until
 * Prometheus scrapes every target of every job, failing with the targets it misses.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { MONITORING, efaHwCounter } from '../../lib/catalog/monitoring';
import { PORTS } from '../../lib/catalog/ports';
import { MONITORING_SOFTWARE } from '../../lib/catalog/software';
import { GRAFANA_PATHS, PROMETHEUS_TARGETS_DIR, STUDY_DASHBOARD_FILE, renderDcgmCounters } from '../../lib/monitoring';
import { aptUpdate } from '../helpers/apt-check';
import { keyFingerprints, testKeys } from '../helpers/test-keys';
import { FEW_LOOKS, context, healthyWorker, runNode } from './node-harness';

const HEAD_PUBLISHED = { STUB_HEAD_JSON: '{"ip":"10.0.0.10","port":6379,"instanceId":"i-0head","dashboardPort":8265}' };
const CPU_HEAD = () => context({ role: 'head', isRayHead: true, gpuIndex: 0 });
const HEAD_ENV = { STUB_IP: '10.0.0.10', P5RAY_SCRAPE_WAIT: '2', P5RAY_EXPORTER_WAIT: '2' };

// The healthy CPU head: one run, which each test that describes it reads.
let healthyHead: ReturnType<typeof runNode> | undefined;
const cpuHead = () => (healthyHead ??= runNode(CPU_HEAD(), HEAD_ENV));

describe('observability stack on the nodes', { concurrency: 4 }, () => {
  test('a GPU node runs node_exporter with the EFA counters and the pinned dcgm-exporter with our counters', async () => {
    const run = await healthyWorker();
    assert.equal(run.signals[0]?.Status, 'SUCCESS', run.stdout);
    assert.equal(run.file('etc/default/prometheus-node-exporter'),
      `ARGS="--web.listen-address=:${PORTS.nodeExporter} --collector.textfile.directory=/var/lib/prometheus/node-exporter"\n`);
    assert.match(run.file('etc/systemd/system/p5-ray-efa-counters.service'), new RegExp('^ExecStart=/bin/bash /opt/p5-ray/bin/efa-counters\\.sh ' +
      `/var/lib/prometheus/node-exporter 5 ${Object.values(MONITORING.efaMetrics).map(efaHwCounter).join(' ')}$`, 'm'));
    const dcgm = run.file('etc/systemd/system/p5-ray-dcgm-exporter.service');
    assert.ok(dcgm.includes(`-p ${PORTS.dcgmExporter}:9400`), dcgm);
    // Collecting at the scrape interval: dcgm-exporter's default is every 30 s.
    assert.ok(dcgm.includes(`${MONITORING_SOFTWARE.dcgmExporterImage} -f /etc/dcgm-exporter/p5-ray.csv -c 5000\n`), dcgm);
    assert.equal(run.file('etc/p5-ray/dcgm-counters.csv'), renderDcgmCounters());
    assert.ok(run.calls.includes(`docker pull -q ${MONITORING_SOFTWARE.dcgmExporterImage}`), run.calls.join('\n'));
    assert.ok(run.calls.includes('systemctl restart prometheus-node-exporter.service p5-ray-efa-counters.service p5-ray-dcgm-exporter.service'));
    assert.match(run.stdout, /node_exporter :9100 \(32 EFA ports\), dcgm-exporter :9400/);
    assert.match(run.file('etc/systemd/system/ray.service'), /--metrics-export-port=8080/);
    assert.ok(!run.calls.some((c) => /grafana|apt-get .*install .*prometheus$/.test(c)), 'Prometheus and Grafana on the head only');
    // In the background, beside the stack install: not on the node's critical path.
    assert.match(run.stdout, /job monitoring: started/);
    assert.ok(run.stdout.indexOf('job monitoring: done') < run.stdout.indexOf('step 11/15: verify the Python stack'), run.stdout);
  });

  test('a dcgm-exporter without the profiling fields is said; one without any GPU field fails the node', async () => {
    const partial = await runNode(context(), { ...HEAD_PUBLISHED, STUB_DCGM_FIELDS: 'DCGM_FI_DEV_GPU_UTIL DCGM_FI_DEV_FB_USED' });
    assert.equal(partial.signals[0]?.Status, 'SUCCESS', partial.stdout);
    assert.match(partial.stdout, /WARNING: dcgm-exporter serves none of DCGM_FI_PROF_SM_ACTIVE .*DCGM_FI_PROF_NVLINK_TX_BYTES/);
    const none = await runNode(context(), { ...HEAD_PUBLISHED, STUB_DCGM_FIELDS: '', P5RAY_EXPORTER_WAIT: '1', ...FEW_LOOKS });
    assert.equal(none.signals[0]?.Status, 'FAILURE');
    assert.match(none.signals[0].Reason, /: job monitoring failed: dcgm-exporter does not serve DCGM_FI_DEV_GPU_UTIL within 1s/);
  });

  test('the CPU head installs Prometheus and Grafana on 127.0.0.1, provisioned from the asset, and gates on every target', async () => {
    const run = await cpuHead();
    assert.equal(run.signals[0]?.Status, 'SUCCESS', run.stdout);
    assert.ok(run.calls.some((c) => c.endsWith(`install --no-install-recommends prometheus grafana=${MONITORING_SOFTWARE.grafana.version}`)), run.calls.join('\n'));
    assert.equal(run.file('etc/apt/sources.list.d/grafana.list'),
      'deb [signed-by=/etc/apt/keyrings/grafana.asc] https://apt.grafana.com stable main\n');
    assert.match(run.file('etc/default/prometheus'), /--web\.listen-address=127\.0\.0\.1:9090/);
    assert.match(run.file('etc/prometheus/prometheus.yml'), /job_name: dcgm/);
    const grafana = run.file('etc/systemd/system/grafana-server.service.d/p5-ray.conf');
    assert.match(grafana, /^Environment=GF_SERVER_HTTP_ADDR=127\.0\.0\.1$/m);
    assert.match(grafana, /^Environment=GF_AUTH_ANONYMOUS_ENABLED=true$/m);
    assert.match(run.file(`${GRAFANA_PATHS.provisioning}/datasources/p5-ray.yaml`.slice(1)), /url: http:\/\/127\.0\.0\.1:9090/);
    assert.match(run.file(`${GRAFANA_PATHS.dashboards}/${STUDY_DASHBOARD_FILE}`.slice(1)), /"uid": "p5ray-kv-study"/);
    assert.equal(run.file(`${GRAFANA_PATHS.rayDashboards}/serve_llm_grafana_dashboard.json`.slice(1)), '{"uid":"rayServeLlm"}');
    const ray = JSON.parse(run.file(`${PROMETHEUS_TARGETS_DIR}/ray.json`.slice(1)));
    // Every node's metrics agent, and what else Ray's service-discovery file lists on the head (autoscaler, dashboard).
    assert.deepEqual(ray.map((g: { targets: string[]; labels: Record<string, string> }) => [g.targets[0], g.labels[MONITORING.nodeLabel]]),
      [['10.0.0.10:8080', 'head'], ['10.0.1.1:8080', 'gpu-0'], ['10.0.1.2:8080', 'gpu-1'], ['10.0.0.10:44217', 'head'], ['10.0.0.10:44227', 'head']]);
    assert.equal(JSON.parse(run.file(`${PROMETHEUS_TARGETS_DIR}/dcgm.json`.slice(1))).length, 2, 'no DCGM on the CPU head');
    assert.match(run.file('etc/p5-ray/ray.env'), /^RAY_PROMETHEUS_HOST=http:\/\/127\.0\.0\.1:9090$/m);
    assert.match(run.stdout, /step 12\/12: wait for Prometheus to scrape every node/);
    assert.match(run.stdout, /all targets up: prometheus 1, ray 5, node 2, dcgm 2/);
    assert.equal(run.signalUrls.length, 1, `every URL the head fetched is one it means to: ${run.signalUrls.join(' ')}`);
  });

  test('a target Prometheus cannot scrape fails ClusterReady naming the job, node, address and error', async () => {
    const run = await runNode(CPU_HEAD(), { ...HEAD_ENV, ...FEW_LOOKS, STUB_PROM_DOWN: 'dcgm/gpu-1' });
    assert.equal(run.signals[0]?.Status, 'FAILURE');
    assert.match(run.signals[0].Reason, /^step 12\/12 \(wait for Prometheus to scrape every node\): Prometheus is not scraping every node within 2s: 1 of 10 targets not ready: dcgm\/gpu-1 \(10\.0\.1\.2:9400\) down: connect: connection refused/);
  });

  test('a node Ray lists but Prometheus does not scrape fails ClusterReady', async () => {
    const run = await runNode(CPU_HEAD(), { ...HEAD_ENV, ...FEW_LOOKS, STUB_RAY_SD_EXTRA: '10.0.9.9' });
    assert.equal(run.signals[0]?.Status, 'FAILURE');
    assert.match(run.signals[0].Reason, /Ray's service-discovery file lists \['10\.0\.9\.9:8080'\], on no node of the cluster/);
  });

  test('the pinned Grafana key, not first in the full key file, becomes the repository\'s only key, and apt accepts it', async () => {
    const keys = testKeys();
    assert.notEqual(keyFingerprints(keys.fullFile)[0], keys.signer, 'the pinned key is not the first of the file');
    const run = await cpuHead();
    assert.equal(run.signals[0]?.Status, 'SUCCESS', run.stdout);
    const keyring = join(run.root, MONITORING_SOFTWARE.grafana.keyring);
    assert.deepEqual(keyFingerprints(keyring), [keys.signer], 'exactly the pinned key, no decoy of the file');
    assert.ok(run.calls.includes(`curl -fsSL --max-time 30 --retry 3 -o ${run.root}/opt/p5-ray/state/grafana-full.asc https://apt.grafana.com/gpg-full.key`),
      run.calls.filter((c) => c.includes('grafana')).join('\n'));
    // apt itself: the line and keyring verify a repository the pinned key signs, and refuse one a decoy of the file signs.
    const line = run.file('etc/apt/sources.list.d/grafana.list');
    const good = aptUpdate(line, keyring, (release, inRelease) => keys.clearsign(release, inRelease, keys.signer));
    assert.equal(good.status, 0, good.output);
    const decoy = aptUpdate(line, keyring, (release, inRelease) => keys.clearsign(release, inRelease, keys.decoys[0]));
    assert.notEqual(decoy.status, 0, decoy.output);
    assert.match(decoy.output, /NO_PUBKEY/);
  });

  test('a Grafana key file without the pinned key, or with it expired, is not trusted, and nothing is installed from the repository', async () => {
    const keys = testKeys();
    const swapped = await runNode(CPU_HEAD(), { ...HEAD_ENV, STUB_GRAFANA_KEY_FILE: keys.decoysFile });
    assert.equal(swapped.signals[0]?.Status, 'FAILURE');
    assert.match(swapped.signals[0].Reason, new RegExp(`job monitoring failed: Grafana's key file https://apt\\.grafana\\.com/gpg-full\\.key holds no key ${keys.signer} ` +
      `\\(it holds: ${keys.decoys.join(',')}\\): not trusting it`));
    assert.ok(!swapped.calls.some((c) => c.includes('grafana=')));
    assert.equal(swapped.file('etc/apt/sources.list.d/grafana.list'), '');
    const expired = await runNode(CPU_HEAD(), HEAD_ENV, { grafanaKeyFpr: keys.expired });
    assert.equal(expired.signals[0]?.Status, 'FAILURE');
    assert.match(expired.signals[0].Reason, new RegExp(`Grafana's key ${keys.expired} in https://apt\\.grafana\\.com/gpg-full\\.key has expired`));
    assert.equal(expired.file(MONITORING_SOFTWARE.grafana.keyring.slice(1)), '');
  });

  test('a Prometheus of another release than the pinned one fails the head, naming both', async () => {
    const run = await runNode(CPU_HEAD(), { ...HEAD_ENV, STUB_PROM_VERSION: '2.31.2+ds1-1ubuntu1' });
    assert.equal(run.signals[0]?.Status, 'FAILURE');
    assert.match(run.signals[0].Reason, /prometheus is at '2\.31\.2\+ds1-1ubuntu1', the stack pins upstream 2\.45\.\*/);
  });
});
