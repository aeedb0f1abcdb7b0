/**
 * What another CDK app gets: the package built as it would be installed (`npm run build:lib` → dist/, which
 * package.json's main/types/exports name), then used by name from plain JavaScript, as a consumer would, with an
 * existing VPC. Resolving `p5-ray-kv-cluster` goes through package.json's "exports" (Node's self-reference).
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { before, describe, it } from 'node:test';

const root = resolve(__dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

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
reviewClusterCosts(app, assembly).then((reviews) => console.log(JSON.stringify({
  gpuInstances: cluster.gpuInstances.length, hourly: reviews[0].report.totalHourlyUsd, error,
})));
`;

describe('the built package, used by name from another app', () => {
  let out: { gpuInstances: number; hourly: number; error: string };
  let outdir: string;
  before(() => {
    execFileSync(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'build-lib.ts')], { cwd: root, stdio: 'pipe' });
    outdir = mkdtempSync(join(tmpdir(), 'p5-consumer-'));
    out = JSON.parse(execFileSync(process.execPath, ['-e', CONSUMER, outdir], { cwd: root, encoding: 'utf8' }));
  });

  it('names its compiled entry point and declarations in main, types and exports', () => {
    assert.equal(pkg.main, 'dist/index.js');
    assert.equal(pkg.types, 'dist/index.d.ts');
    assert.deepEqual(pkg.exports['.'], { types: './dist/index.d.ts', default: './dist/index.js' });
    assert.ok(existsSync(join(root, pkg.types)), 'declarations are built');
    assert.match(readFileSync(join(root, 'dist', 'cluster', 'p5-ray-cluster.d.ts'), 'utf8'), /export declare class P5RayCluster/);
  });

  it('synthesizes the cluster into the consumer\'s stack and VPC, with the node scripts and serve assets packaged', () => {
    assert.equal(out.gpuInstances, 2);
    const template = JSON.parse(readFileSync(join(outdir, 'InferenceTeam.template.json'), 'utf8'));
    const types = Object.values(template.Resources as Record<string, { Type: string }>).map((r) => r.Type);
    assert.equal(types.filter((t) => t === 'AWS::EC2::Instance').length, 3);
    assert.equal(types.includes('AWS::EC2::VPC'), false, 'the consumer\'s VPC is used');
    const userData = JSON.stringify(template.Resources[Object.keys(template.Resources).find((k) => template.Resources[k].Type === 'AWS::EC2::Instance')!]);
    assert.match(userData, /bootstrap-node\.sh/, 'the node scripts were read from dist/');
  });

  it('reviews the consumer\'s costs and refuses bad props with the settings\' one-line errors', () => {
    assert.ok(out.hourly > 110, `two p5.48xlarge and a head: ${out.hourly}`);
    assert.match(out.error, /^invalid setting gpuNodes=1: must be a whole number from 2 to 16/);
  });

  it('renders the report\'s chart from the compiled JavaScript under plain Node (vega and vega-lite are ES modules)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'p5-report-'));
    cpSync(join(root, 'samples', 'reference-example'), dir, { recursive: true, filter: (src) => !/report\.(svg|png)$/.test(src) });
    const script = `require(${JSON.stringify(join(root, 'dist', 'report'))}).runReport(process.argv[1], { json: false, chart: true, profile: 'reference' })
      .then((r) => console.log(JSON.stringify({ code: r.exitCode, svg: r.chartPath, png: r.chartPngPath })))`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script, dir], { cwd: root, encoding: 'utf8' }));
    assert.deepEqual(out, { code: 0, svg: join(dir, 'report.svg'), png: join(dir, 'report.png') });
    assert.match(readFileSync(join(dir, 'report.svg'), 'utf8'), /^<svg[^>]*>.*pd-multiconnector/s);
    for (const dep of ['vega', 'vega-lite', '@resvg/resvg-js', 'dejavu-fonts-ttf']) {
      assert.ok(pkg.dependencies[dep], `${dep} is loaded by dist/report at run time: a dependency, not a devDependency`);
    }
  });

  it('declares aws-cdk-lib and constructs as peer dependencies, so the consumer\'s own copies are used', () => {
    assert.ok(pkg.peerDependencies['aws-cdk-lib']);
    assert.ok(pkg.peerDependencies.constructs);
    assert.equal(pkg.dependencies['aws-cdk-lib'], undefined);
  });
});
