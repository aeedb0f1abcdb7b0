/**
 * What another CDK app gets: the construct package (the workspace packages/p5-ray-kv-cluster) packed as the README
 * says (`npm pack -w p5-ray-kv-cluster`, whose prepack builds dist/ from lib/), installed into a scratch CDK app
 * with `npm install <tarball> aws-cdk-lib constructs` as a consumer would, then used by name from plain JavaScript
 * with an existing VPC. Its install is measured from the consumer's package-lock.json: everything that is neither
 * aws-cdk-lib, constructs nor one of their own dependencies is what the construct brought.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { build } from 'esbuild';

const root = resolve(__dirname, '..');
const packageDir = join(root, 'packages', 'p5-ray-kv-cluster');
const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
const appPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/**
 * The most the construct may add to a consumer's node_modules beyond aws-cdk-lib, constructs and their own
 * dependencies. Measured: 1.3 MB, its compiled modules, declarations, node scripts and serve assets (0.6 MB) and
 * yaml (0.7 MB); before the split it added 257 MB in 133 packages. The bound leaves room to grow, and any one of the
 * app's dependencies breaks it: cdk-nag 3.7 MB, the AWS SDK pricing client with what it pulls in 5.2 MB, resvg
 * 4.4 MB, vega 11.5 MB, the DejaVu fonts 11.9 MB, a Node binary 185 MB.
 */
const ADDED_BYTES_BOUND = 4_000_000;
/** What the repository's app and commands need, and a consumer's synth does not. */
const NOT_FOR_CONSUMERS = /^(vega|vega-.*|@resvg\/.*|dejavu-fonts-ttf|@aws-sdk\/.*|@smithy\/.*|cdk-nag|node-(linux|darwin|win)-.*)$/;
/** Folders of lib/ that belong to the app and its commands: none of their modules ships in the package. */
const APP_ONLY_FOLDERS = ['capacity', 'cli', 'ops', 'preflight', 'rehearsal', 'report'];

const CONSUMER = `
const { P5RayCluster, reviewClusterCosts, ConfigError } = require('p5-ray-kv-cluster');
const { App, Stack } = require('aws-cdk-lib');
const ec2 = require('aws-cdk-lib/aws-ec2');
const app = new App({ outdir: process.argv[1], builtinCloudFormationValidation: false });
const stack = new Stack(app, 'InferenceTeam', { env: { region: 'us-east-2' } });
const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
  vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['us-east-2b'], privateSubnetIds: ['subnet-0123456789abcdef0'],
});
const cluster = new P5RayCluster(stack, 'Cluster', { vpc, availabilityZone: 'us-east-2b', maxHours: 6 });
let error = '';
try { new P5RayCluster(new Stack(app, 'Bad', { env: { region: 'us-east-2' } }), 'C', { gpuNodes: 1 }); }
catch (e) { error = e instanceof ConfigError ? e.problems.join('|') : 'not a ConfigError: ' + e; }
const assembly = app.synth();
(async () => {
  const reviews = await reviewClusterCosts(app, assembly);
  const live = await reviewClusterCosts(app, assembly, { live: true }).then(() => 'resolved', (e) => e.message);
  console.log(JSON.stringify({ gpuInstances: cluster.gpuInstances.length, hourly: reviews[0].report.totalHourlyUsd, error, live }));
})();
`;

interface LockEntry {
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
}

/** Where Node finds `name` from the package installed at `from` (a package-lock.json key): its nearest node_modules. */
function resolveInLock(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  for (let dir = from; ; dir = dir.replace(/\/?node_modules\/(@[^/]+\/)?[^/]+$/, '')) {
    const key = `${dir === '' ? '' : `${dir}/`}node_modules/${name}`;
    if (key in packages) return key;
    if (dir === '') return undefined;
  }
}

/** The package-lock.json keys of `names` installed at the top and everything they depend on, peers included. */
function closure(packages: Record<string, LockEntry>, names: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const queue = names.map((n) => `node_modules/${n}`);
  while (queue.length > 0) {
    const key = queue.pop()!;
    if (seen.has(key) || !(key in packages)) continue;
    seen.add(key);
    const entry = packages[key];
    for (const dep of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies, ...entry.peerDependencies })) {
      const found = resolveInLock(packages, key, dep);
      if (found) queue.push(found);
    }
  }
  return seen;
}

/** Bytes of the files of the package installed at `dir`, its own nested node_modules left out (counted apart). */
function packageBytes(dir: string): number {
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) bytes += entry.name === 'node_modules' ? 0 : packageBytes(path);
    else if (entry.isFile()) bytes += statSync(path).size;
  }
  return bytes;
}

const nameOf = (key: string) => key.replace(/^.*node_modules\//, '');
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

describe('the construct package, packed and installed into another CDK app', () => {
  let out: { gpuInstances: number; hourly: number; error: string; live: string };
  let app: string;
  let outdir: string;
  let added: Map<string, number>;
  let installed: string[];
  let totalBytes = 0;
  let work = '';
  // The scratch app holds aws-cdk-lib (170 MB): gone after each run.
  after(() => rmSync(work, { recursive: true, force: true }));
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'p5-consumer-'));
    execFileSync('npm', ['pack', '-w', 'p5-ray-kv-cluster', '--pack-destination', work],
      { cwd: root, stdio: 'pipe' });
    const [tarball] = readdirSync(work).filter((f) => f.endsWith('.tgz'));
    app = join(work, 'inference-team');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'inference-team', version: '1.0.0', private: true })}\n`);
    // The peers at the versions this repository tests with; --prefer-offline reuses what `npm ci` put in npm's cache.
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, tarball),
      `aws-cdk-lib@${appPkg.devDependencies['aws-cdk-lib']}`, `constructs@${appPkg.devDependencies.constructs}`],
    { cwd: app, stdio: 'pipe' });
    outdir = join(work, 'cdk.out');
    out = JSON.parse(execFileSync(process.execPath, ['-e', CONSUMER, outdir], { cwd: app, encoding: 'utf8' }));

    const packages: Record<string, LockEntry> = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')).packages;
    const peers = closure(packages, ['aws-cdk-lib', 'constructs']);
    const keys = Object.keys(packages).filter((k) => k !== '');
    installed = keys.map(nameOf).sort();
    added = new Map(keys.filter((k) => !peers.has(k)).map((k) => [nameOf(k), packageBytes(join(app, k))]));
    totalBytes = keys.reduce((sum, k) => sum + packageBytes(join(app, k)), 0);
  });

  it('names its compiled entry point and declarations in main, types and exports, and ships them with its README', () => {
    assert.equal(pkg.main, 'dist/index.js');
    assert.equal(pkg.types, 'dist/index.d.ts');
    assert.deepEqual(pkg.exports['.'], { types: './dist/index.d.ts', default: './dist/index.js' });
    const installedDir = join(app, 'node_modules', 'p5-ray-kv-cluster');
    assert.deepEqual(readdirSync(installedDir).sort(), ['README.md', 'dist', 'package.json']);
    assert.match(readFileSync(join(installedDir, 'dist', 'cluster', 'p5-ray-cluster.d.ts'), 'utf8'), /export declare class P5RayCluster/);
    assert.match(readFileSync(join(installedDir, 'dist', 'index.d.ts'), 'utf8'), /reviewClusterCosts/);
    assert.equal(readdirSync(join(installedDir, 'dist')).includes('.build-lib-files'), false, 'the build\'s manifest stays home');
  });

  it('synthesizes the cluster into the consumer\'s stack and VPC, with the node scripts and serve assets packaged', () => {
    assert.equal(out.gpuInstances, 2);
    const template = JSON.parse(readFileSync(join(outdir, 'InferenceTeam.template.json'), 'utf8'));
    const types = Object.values(template.Resources as Record<string, { Type: string }>).map((r) => r.Type);
    assert.equal(types.filter((t) => t === 'AWS::EC2::Instance').length, 3);
    assert.equal(types.includes('AWS::EC2::VPC'), false, 'the consumer\'s VPC is used');
    const userData = JSON.stringify(template.Resources[Object.keys(template.Resources).find((k) => template.Resources[k].Type === 'AWS::EC2::Instance')!]);
    assert.match(userData, /bootstrap-node\.sh/, 'the node scripts were read from the installed dist/');
  });

  it('reviews the consumer\'s costs and refuses bad props with the settings\' one-line errors', () => {
    assert.ok(out.hourly > 110, `two p5.48xlarge and a head: ${out.hourly}`);
    assert.match(out.error, /^invalid setting gpuNodes=1: must be a whole number from 2 to 16/);
  });

  it('refuses live prices without the optional AWS SDK pricing client, naming what to install', () => {
    assert.equal(out.live, 'live prices need @aws-sdk/client-pricing, an optional peer dependency of p5-ray-kv-cluster that ' +
      'is not installed: npm install @aws-sdk/client-pricing, or review costs without live (the dated price tables)');
    assert.equal(pkg.peerDependenciesMeta['@aws-sdk/client-pricing'].optional, true);
  });

  it('adds only itself and yaml to the consumer\'s node_modules, within a bounded size', (t) => {
    const addedBytes = [...added.values()].reduce((a, b) => a + b, 0);
    t.diagnostic(`consumer's node_modules: ${mb(totalBytes)} in all; added by p5-ray-kv-cluster beyond aws-cdk-lib, ` +
      `constructs and their dependencies: ${mb(addedBytes)} (${[...added].map(([n, b]) => `${n} ${mb(b)}`).join(', ')})`);
    assert.deepEqual(installed.filter((n) => NOT_FOR_CONSUMERS.test(n)), [], 'the app\'s and commands\' dependencies stay out');
    assert.deepEqual([...added.keys()].sort(), ['p5-ray-kv-cluster', 'yaml']);
    assert.ok(addedBytes < ADDED_BYTES_BOUND, `${mb(addedBytes)} added, bound ${mb(ADDED_BYTES_BOUND)}`);
  });

  it('ships no module of the app\'s commands, and loads nothing its dependencies and peers do not name', async () => {
    const installedDist = join(app, 'node_modules', 'p5-ray-kv-cluster', 'dist');
    assert.deepEqual(APP_ONLY_FOLDERS.filter((f) => readdirSync(installedDist).includes(f)), []);
    // esbuild resolves the requires as Node does; every bare one must be a built-in, a dependency or a peer.
    const { metafile } = await build({ entryPoints: [join(installedDist, 'index.js')], bundle: true, platform: 'node',
      packages: 'external', metafile: true, write: false, logLevel: 'silent' });
    const external = new Set(Object.values(metafile.inputs).flatMap((i) => i.imports.filter((m) => m.external).map((m) => m.path))
      .filter((p) => !p.startsWith('.'))
      .map((p) => p.split('/').slice(0, p.startsWith('@') ? 2 : 1).join('/')));
    const allowed = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`),
      ...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies)]);
    assert.deepEqual([...external].filter((m) => !allowed.has(m)), []);
    assert.deepEqual(Object.keys(pkg.dependencies).filter((d) => !external.has(d)), [], 'every dependency is used');
  });
});
