/**
 * A serve-configuration change reaches the nodes without touching them: bundle_sync.py installs a bundle (on one
 * node, or through Ray on every node of a cluster of the real Ray 2.58 of .test-venv), and run_all.sh, before
 * anything else, installs the bundle the stack's SSM parameter names when it is not the one installed, then runs
 * again from it. Every result records which bundle it ran.
 */
import { strict as assert } from 'node:assert';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bundleFor, writeBundle } from './helpers';
import { RayCluster, startRayCluster } from './ray-cluster';
import { writeZip } from '../bootstrap/python-env';
import { runToEnd, type Ended } from '../helpers/run-to-end';

const REPO = resolve(__dirname, '..', '..');
const PYTHON = join(REPO, '.test-venv', 'bin', 'python');
const SYNC = join(REPO, 'lib', 'serve', 'assets', 'bundle_sync.py');
const URL_A = 's3://cdk-hnb659fds-assets-111122223333-us-east-1/aaaa.zip';
const URL_B = 's3://cdk-hnb659fds-assets-111122223333-us-east-1/bbbb.zip';
const PARAMETER = '/p5-ray/P5RayKvCluster/serve-bundle';

/** A zip of a rendered bundle (the files a CDK asset of the bundle holds). */
function bundleZip(raw: Record<string, unknown>): string {
  const path = join(mkdtempSync(join(tmpdir(), 'bundle-zip-')), 'bundle.zip');
  writeZip(path, Object.fromEntries(bundleFor(raw).map((f) => [f.path, f.content])));
  return path;
}

function sync(args: string[], env: Record<string, string> = {}): Promise<Ended> {
  return runToEnd(PYTHON, [SYNC, ...args], { env: { PATH: '/usr/bin:/bin', HOME: tmpdir(), ...env } }, 120_000);
}

describe('bundle_sync.py install', () => {
  it('replaces the bundle file by file: a running script keeps its copy, results stay, files the new bundle lacks go', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'serve-dir-'));
    const first = bundleZip({ profile: 'full-cluster' });
    assert.equal((await sync(['install', '--zip', first, '--dir', dir, '--source', URL_A, '--parameter', PARAMETER])).code, 0);
    assert.equal(statSync(join(dir, 'run_all.sh')).mode & 0o777, 0o755, 'the scripts can run');
    assert.equal(statSync(join(dir, 'builder.py')).mode & 0o777, 0o644);
    mkdirSync(join(dir, 'bm_results'));
    writeFileSync(join(dir, 'bm_results', 'conc64.json'), '{}');
    // run_all.sh is running while a new bundle is installed: bash keeps reading the file it opened.
    const running = openSync(join(dir, 'run_all.sh'), 'r');
    const before = readFileSync(join(dir, 'run_all.sh'), 'utf8');

    const second = bundleZip({ profile: 'reference' });
    const r = await sync(['install', '--zip', second, '--dir', dir, '--source', URL_B, '--parameter', PARAMETER]);
    assert.equal(r.code, 0, r.stderr);
    const record = JSON.parse(r.stdout);
    assert.equal(record.source, URL_B);
    assert.equal(record.parameter, PARAMETER);
    assert.match(record.sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'serve-bundle.json'), 'utf8')), record);
    // The reference profile has no fifth configuration: its files are removed, nothing else is.
    assert.ok(record.removed.includes('pd_prefill_lmcache.yaml'), record.removed.join(' '));
    assert.equal(existsSync(join(dir, 'pd_prefill_lmcache.yaml')), false);
    assert.equal(readFileSync(join(dir, 'bm_results', 'conc64.json'), 'utf8'), '{}');
    assert.match(readFileSync(join(dir, 'run_all.sh'), 'utf8'), /PROFILE="reference"/);
    const buf = Buffer.alloc(Buffer.byteLength(before));
    readSync(running, buf, 0, buf.length, 0);
    assert.equal(buf.toString('utf8'), before, 'the open copy is the old file, not a half-written new one');
  });

  it('refuses a bundle with a path outside its folder, and says so in one line', async () => {
    const evil = join(mkdtempSync(join(tmpdir(), 'bundle-zip-')), 'evil.zip');
    writeZip(evil, { '../escape.sh': 'echo' });
    const r = await sync(['install', '--zip', evil, '--dir', mkdtempSync(join(tmpdir(), 'serve-dir-')), '--source', URL_A]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^bundle_sync: the bundle holds a file it must not: '\.\.\/escape\.sh'\n$/);
  });
});

describe('bundle_sync.py distribute, with a real Ray cluster', () => {
  it('installs the bundle on every alive node through a Ray task pinned to each, and reports what each installed', async () => {
    const { dir, r } = await distributed;
    assert.equal(r.code, 0, r.stderr);
    const byNode = JSON.parse(r.stdout) as Record<string, { source: string }>;
    assert.equal(Object.keys(byNode).length, 1, 'one node in a local cluster');
    const [record] = Object.values(byNode);
    assert.equal(record.source, URL_B);
    assert.match(readFileSync(join(dir, 'collocated_baseline.yaml'), 'utf8'), /max_model_len: 20000/);
  });
});

/** run_all.sh with stand-ins for the AWS CLI and the real Python (with Ray) of .test-venv. */
async function runAll(bundle: string, env: Record<string, string>, args: string[] = ['--update-bundle']) {
  const work = mkdtempSync(join(tmpdir(), 'run-all-sync-'));
  const bin = join(work, 'bin');
  mkdirSync(bin);
  // ssm get-parameter answers STUB_URL; s3 cp of STUB_URL copies STUB_ZIP.
  writeFileSync(join(bin, 'aws'), `#!/usr/bin/env bash
echo "aws $*" >> "$STUB_LOG"
case "$1 $2" in
  "ssm get-parameter") echo "$STUB_URL" ;;
  "s3 cp") for a in "$@"; do case $a in s3://*) src=$a ;; esac; done
    last="\${@: -1}"; [ "$src" = "$STUB_URL" ] && [ "$last" != "$src" ] && cp "$STUB_ZIP" "$last" ;;
esac`);
  chmodSync(join(bin, 'aws'), 0o755);
  // A wrapper, not a link: the venv (and its Ray) is found from the interpreter's own path.
  writeFileSync(join(bin, 'python3'), `#!/bin/sh\nexec ${PYTHON} "$@"\n`);
  chmodSync(join(bin, 'python3'), 0o755);
  const log = join(work, 'calls.log');
  writeFileSync(log, '');
  const r = await runToEnd(join(bundle, 'run_all.sh'), args, { cwd: work, env: { PATH: `${bin}:/usr/bin:/bin`, HOME: work, STUB_LOG: log, ...env } }, 180_000);
  return { ...r, calls: readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

function clusterEnv(lines: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'cluster-env-')), 'cluster.env');
  writeFileSync(path, lines);
  return path;
}

const withParameter = clusterEnv(`BUCKET=my-bucket\nREGION=us-east-2\nSERVE_BUNDLE_PARAMETER=${PARAMETER}\n`);

/**
 * One Ray cluster, reached as a node's scripts reach theirs: by its address. Starting it takes seconds, so it starts
 * with the file, and the two installs through it (bundle_sync.py distribute, and run_all.sh installing the deploy's
 * new bundle) run side by side as soon as it is up; their tests below read what each did.
 */
let cluster: Promise<RayCluster>;
let distributed: Promise<{ dir: string; r: Ended }>;
let redeployed: Promise<{ bundle: string; installed: Ended; r: Awaited<ReturnType<typeof runAll>> }>;
before(() => {
  cluster = startRayCluster();
  distributed = (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'serve-dir-'));
    const zip = bundleZip({ maxModelLen: 20000 });
    const { address } = await cluster;
    return { dir, r: await sync(['distribute', '--zip', zip, '--dir', dir, '--source', URL_B, '--parameter', PARAMETER], { RAY_ADDRESS: address }) };
  })();
  redeployed = (async () => {
    const bundle = writeBundle();
    const installed = await sync(['install', '--zip', bundleZip({}), '--dir', bundle, '--source', URL_A]);
    const zip = bundleZip({ maxModelLen: 20000 });
    const { address } = await cluster;
    return { bundle, installed, r: await runAll(bundle, { CLUSTER_ENV: withParameter, STUB_URL: URL_B, STUB_ZIP: zip, RAY_ADDRESS: address }) };
  })();
  for (const started of [cluster, distributed, redeployed]) started.catch(() => undefined);
});
after(async () => { await (await cluster.catch(() => undefined))?.stop(); });

describe('run_all.sh runs the bundle of the current deploy', () => {
  it('without a parameter (a local rehearsal, an old node) runs the bundle as it is and says it was not checked', async () => {
    const r = await runAll(writeBundle(), { CLUSTER_ENV: clusterEnv('BUCKET=my-bucket\n') });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /serve bundle: \S+ as it is \(no SERVE_BUNDLE_PARAMETER in \S+: not checked against a deploy\)/);
    assert.deepEqual(r.calls, []);
  });

  it('--help shows the usage without checking the bundle against the deploy (no AWS call)', async () => {
    const r = await runAll(writeBundle(), { CLUSTER_ENV: withParameter }, ['--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Usage: .*run_all\.sh \[options\]/);
    assert.deepEqual(r.calls, []);
  });

  it('with the current bundle installed, just says so', async () => {
    const bundle = writeBundle();
    assert.equal((await sync(['install', '--zip', bundleZip({}), '--dir', bundle, '--source', URL_A])).code, 0);
    const temp = mkdtempSync(join(tmpdir(), 'run-all-tmp-'));
    const r = await runAll(bundle, { CLUSTER_ENV: withParameter, STUB_URL: URL_A, TMPDIR: temp });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`serve bundle: ${URL_A} \\(the current deploy's\\)`));
    assert.deepEqual(r.calls, [`aws ssm get-parameter --name ${PARAMETER} --region us-east-2 --query Parameter.Value --output text`]);
    // What every result's .meta.json gets as section serveBundle (run_bm.sh --meta-section).
    const [meta] = readdirSync(temp).map((f) => JSON.parse(readFileSync(join(temp, f), 'utf8')));
    assert.equal(meta.source, URL_A);
    assert.equal(meta.checkedAgainstDeploy, true);
    assert.equal(meta.installedByThisRun, false);
    assert.match(meta.sha256, /^[0-9a-f]{64}$/);
    assert.equal(meta.files, undefined, 'the record without its file list');
  });

  it('after a deploy changed maxModelLen: downloads the new bundle, installs it on every node, and runs again from it', async () => {
    const { bundle, installed, r } = await redeployed;
    assert.equal(installed.code, 0, installed.stderr);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`the current deploy's is ${URL_B}; installed here: ${URL_A}\\. Installing it on every node`));
    assert.match(r.stdout, new RegExp(`serve bundle: ${URL_B} \\(the current deploy's\\)`), 'the new run_all.sh checks again and goes on');
    assert.match(readFileSync(join(bundle, 'collocated_baseline.yaml'), 'utf8'), /max_model_len: 20000/);
    assert.equal(JSON.parse(readFileSync(join(bundle, 'serve-bundle.json'), 'utf8')).source, URL_B);
    assert.equal(r.calls.filter((c) => c.startsWith('aws ssm get-parameter')).length, 2);
    assert.ok(r.calls.some((c) => c.startsWith('aws s3 cp') && c.includes(URL_B)));
    assert.ok(r.calls.some((c) => c.includes('--recursive') && c.includes('s3://my-bucket/serve/') && c.includes("bm_results/*")),
      'the artifacts bucket\'s copy of the bundle follows');
  });

  it('stops, naming the parameter, when the URL cannot be read', async () => {
    const r = await runAll(writeBundle(), { CLUSTER_ENV: withParameter, STUB_URL: '' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`run_all: ERROR: cannot read the serve bundle's URL from the SSM parameter ${PARAMETER}`));
  });
});
