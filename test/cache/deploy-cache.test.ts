/**
 * The deploy cache in the templates: off by default (nothing outlives the cluster), a separate stack when enabled
 * without a named bucket, node roles scoped to their own cache prefixes, and the cache's storage in the cost review.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { Template } from 'aws-cdk-lib/assertions';
import { DEPLOY_CACHE_STACK_NAME } from '../../lib/cache/deploy-cache';
import { parseClusterConfig } from '../../lib/config/cluster-config';
import { resourcesOf, synth, Synthesized } from '../helpers/synth';

const cacheStatements = (s: Synthesized, role: RegExp) => resourcesOf(s, 'AWS::IAM::Policy').find(([id]) => role.test(id))![1]
  .Properties.PolicyDocument.Statement.filter((st: any) => String(st.Sid).startsWith('DeployCache'));

const text = (v: unknown) => JSON.stringify(v);

describe('deploy cache off (default)', () => {
  let s: Synthesized;
  before(async () => { s = await synth(); });

  it('creates no cache stack, grants no cache access, and tells the nodes there is none', () => {
    assert.deepEqual(s.stack.node.dependencies, []);
    assert.equal(cacheStatements(s, /GpuNodeRole/).length, 0);
    for (const [, r] of resourcesOf(s, 'AWS::EC2::Instance')) assert.match(text(r.Properties.UserData), /CACHE_BUCKET=''/);
    const report = JSON.parse(readFileSync(join(s.outdir, 'cost-report.json'), 'utf8'));
    assert.ok(!report.lines.some((l: any) => l.logicalId === 'DeployCache'));
  });
});

describe('deploy cache on, with the separate cache stack', () => {
  let s: Synthesized;
  let cache: Template;
  before(async () => {
    s = await synth({ deployCache: 'true' });
    cache = Template.fromJSON(JSON.parse(readFileSync(join(s.outdir, `${DEPLOY_CACHE_STACK_NAME}.template.json`), 'utf8')));
  });

  it('puts the bucket in its own stack, deployed before the cluster, emptied and deleted only with that stack', () => {
    assert.deepEqual(s.stack.dependencies.map((d) => d.stackName), [DEPLOY_CACHE_STACK_NAME]);
    cache.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: { 'Fn::Join': ['', ['p5-ray-cache-', { Ref: 'AWS::AccountId' }, '-us-east-1']] },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
    cache.hasResource('Custom::S3AutoDeleteObjects', {});
    // Nothing of the cache is in the cluster's template: destroying the cluster leaves it.
    assert.equal(resourcesOf(s, 'AWS::S3::Bucket').length, 1);
  });

  it('hands the nodes the cache bucket, by the name the cache stack gives it', () => {
    for (const [, r] of resourcesOf(s, 'AWS::EC2::Instance')) {
      assert.match(text(r.Properties.UserData), /CACHE_BUCKET='p5-ray-cache-",\{"Ref":"AWS::AccountId"\},"-us-east-1'/);
    }
  });

  it('lets each role read and write only its own prefixes of the cache, and list only those', () => {
    const prefixesOf = (st: any) => [st.Resource].flat().map((r: any) => r['Fn::Join'][1].at(-1)).sort();
    const [gpuObjects, gpuList] = cacheStatements(s, /GpuNodeRole/);
    assert.deepEqual([gpuObjects.Action].flat().sort(), ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject']);
    assert.deepEqual(prefixesOf(gpuObjects), ['-us-east-1/p5-ray-cache/v1/lmcache/*', '-us-east-1/p5-ray-cache/v1/models/openai--gpt-oss-120b/*',
      '-us-east-1/p5-ray-cache/v1/venv/gpu/*']);
    assert.equal(gpuList.Action, 's3:ListBucket');
    assert.deepEqual(gpuList.Condition.StringLike['s3:prefix'].sort(), ['p5-ray-cache/v1/lmcache/*',
      'p5-ray-cache/v1/models/openai--gpt-oss-120b/*', 'p5-ray-cache/v1/venv/gpu/*']);
    const [headObjects] = cacheStatements(s, /HeadNodeRole/);
    assert.deepEqual(prefixesOf(headObjects), ['-us-east-1/p5-ray-cache/v1/venv/cpu/*']);
  });

  it('prices the cache\'s storage in the cost review, as outliving the stack', () => {
    const report = JSON.parse(readFileSync(join(s.outdir, 'cost-report.json'), 'utf8'));
    const line = report.lines.find((l: any) => l.logicalId === 'DeployCache');
    assert.ok(line, JSON.stringify(report.lines.map((l: any) => l.logicalId)));
    // gpt-oss-120b's 65 GB of weights and two venv archives (GPU nodes, CPU head) of 6 GB.
    assert.equal(line.quantity, 77);
    assert.equal(line.pricing, 'usage-estimate');
    assert.match(line.note, /outlives this stack/);
    assert.ok(report.assumptions.some((a: string) => /^Deploy cache: 77 GB in s3:\/\/p5-ray-cache-<account>-us-east-1 \(openai\/gpt-oss-120b weights 65 GB/.test(a)));
    assert.ok(report.notes.some((n: string) => /\$1\.77 a month, also after the cluster is destroyed/.test(n)), report.notes.join('\n'));
  });
});

describe('deploy cache on, in a bucket the user names', () => {
  it('creates no cache stack and scopes the roles to that bucket', async () => {
    const s = await synth({ deployCache: 'true', cacheBucketName: 'team-ml-cache', headInstanceType: 'none' });
    assert.deepEqual(s.stack.dependencies, []);
    const [objects] = cacheStatements(s, /GpuNodeRole/);
    assert.ok([objects.Resource].flat().every((r: any) => text(r).includes(':s3:::team-ml-cache/p5-ray-cache/v1/')), text(objects.Resource));
    const report = JSON.parse(readFileSync(join(s.outdir, 'cost-report.json'), 'utf8'));
    // One venv archive: the Ray head runs on GPU node 0.
    assert.equal(report.lines.find((l: any) => l.logicalId === 'DeployCache').quantity, 71);
  });

  it('rejects a bucket name without deployCache, naming both settings', () => {
    assert.throws(() => parseClusterConfig({ cacheBucketName: 'team-ml-cache' }),
      /invalid setting cacheBucketName=team-ml-cache: names the deploy cache: also set deployCache=true/);
  });

  it('rejects the deploy-cache bucket of another region at synth (its name says where it is); preflight checks any other name', () => {
    assert.throws(() => parseClusterConfig({ deployCache: true, cacheBucketName: 'p5-ray-cache-123456789012-us-west-2' }),
      /invalid setting cacheBucketName=p5-ray-cache-123456789012-us-west-2: is the deploy-cache bucket of region us-west-2, the stack's region is us-east-1: .*CRT transfer client/);
    assert.equal(parseClusterConfig({ deployCache: true, cacheBucketName: 'p5-ray-cache-123456789012-us-east-1' }).cacheBucketName,
      'p5-ray-cache-123456789012-us-east-1');
    assert.equal(parseClusterConfig({ region: 'eu-west-1', availabilityZone: 'eu-west-1a', deployCache: true, cacheBucketName: 'p5-ray-cache-123456789012-eu-west-1', ignoreRegionCatalog: true }).region, 'eu-west-1');
  });
});
