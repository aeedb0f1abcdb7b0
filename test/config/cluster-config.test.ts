import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { parseClusterConfig } from '../../lib/config/cluster-config';
import { SETTINGS, defaultText } from '../../lib/config/schema';
import { ConfigError } from '../../lib/config/errors';

function problemsOf(raw: Record<string, unknown>): string[] {
  try {
    parseClusterConfig(raw);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return [...err.problems];
  }
  assert.fail(`expected ${JSON.stringify(raw)} to be rejected`);
}

function onlyProblem(raw: Record<string, unknown>): string {
  const problems = problemsOf(raw);
  assert.equal(problems.length, 1, `expected one problem, got:\n${problems.join('\n')}`);
  return problems[0];
}

describe('cluster configuration', () => {
  it('defaults to the brief\'s cluster: 2x p5.48xlarge in us-east-1a, a CPU head, an 8-hour guard, every GPU used: 4 × TP4 collocated, 2P2D TP4', () => {
    const c = parseClusterConfig({});
    assert.equal(c.region, 'us-east-1');
    assert.equal(c.availabilityZone, 'us-east-1a');
    assert.equal(c.gpuInstanceType, 'p5.48xlarge');
    assert.equal(c.gpuNodes, 2);
    assert.equal(c.profile, 'full-cluster');
    assert.equal(c.tensorParallelSize, 4);
    assert.equal(c.collocatedReplicas, 4);
    assert.equal(c.prefillReplicas, 2);
    assert.equal(c.decodeReplicas, 2);
    assert.equal(c.model, 'openai/gpt-oss-120b');
    assert.notEqual(c.headInstanceType, 'none');
    assert.equal(c.maxHours, 8);
    assert.equal(c.capacityBlock, false);
    assert.equal(c.efaLayout, 'efa-only');
  });

  it('coerces the strings that `-c key=value` gives', () => {
    const c = parseClusterConfig({ gpuNodes: '3', tensorParallelSize: '8', capacityBlock: 'false', maxHours: '2.5' });
    assert.equal(c.gpuNodes, 3);
    assert.equal(c.tensorParallelSize, 8);
    assert.equal(c.capacityBlock, false);
    assert.equal(c.maxHours, 2.5);
  });

  it('follows the region into the default availability zone', () => {
    assert.equal(parseClusterConfig({ region: 'us-west-2' }).availabilityZone, 'us-west-2a');
  });

  const rejections: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a tensor-parallel size that does not divide the GPUs per node', { tensorParallelSize: '3' }, /^invalid setting tensorParallelSize=3: must divide the 8 GPUs per p5\.48xlarge node \(allowed: 1, 2, 4, 8\)$/],
    ['a GPU type outside the catalog', { gpuInstanceType: 'm5.large' }, /^invalid setting gpuInstanceType=m5\.large: must be one of p5\.48xlarge, .*p6-b200\.48xlarge$/],
    ['zero GPU nodes', { gpuNodes: '0' }, /^invalid setting gpuNodes=0: must be a whole number from 2 to 16 \(the PD configurations put prefill and decode on separate GPU nodes, so at least 2\)$/],
    ['one GPU node, saying the real lower bound', { gpuNodes: 1 }, /^invalid setting gpuNodes=1: must be a whole number from 2 to 16 /],
    ['a negative maxHours', { maxHours: '-1' }, /^invalid setting maxHours=-1: must be a number from 0 to 720 \(0 turns the spend guard off; otherwise at least the bootstrap timeout \+ 30 min\)$/],
    ['a spend guard that fires during the bootstrap', { maxHours: '0.25' }, /^invalid setting maxHours=0\.25: the spend guard would stop the GPU nodes before they finish bootstrapping \(bootstrapTimeoutMinutes=90\); use 0 \(off\) or at least 2$/],
    ['an arm64 DLAMI', { amiParameter: '/aws/service/deeplearning/ami/arm64/base-oss-nvidia-driver-gpu-ubuntu-24.04/latest/ami-id' }, /^invalid setting amiParameter=.*arm64.*: the node bootstrap supports x86_64 Ubuntu 24\.04 AMIs only/],
    ['an Amazon Linux DLAMI', { amiParameter: '/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-amazon-linux-2023/latest/ami-id' }, /^invalid setting amiParameter=.*: the node bootstrap supports x86_64 Ubuntu 24\.04 AMIs only/],
    ['a placement group with a Capacity Block', { capacityReservationId: 'cr-0123456789abcdef0', capacityBlock: 'true', placementGroupName: 'my-pg' }, /^invalid setting placementGroupName=my-pg: a Capacity Block is placed by AWS/],
    ['a malformed reservation id', { capacityReservationId: 'foo' }, /^invalid setting capacityReservationId=foo: must be a capacity reservation id/],
    ['a Capacity Block without a reservation', { capacityBlock: 'true' }, /^invalid setting capacityBlock=true: .*needs capacityReservationId/],
    ['an AZ of another region', { region: 'us-east-2', availabilityZone: 'us-west-2b' }, /^invalid setting availabilityZone=us-west-2b: must be a zone of region us-east-2/],
    ['an unknown key, suggesting the nearest', { gpuNode: 3 }, /^unknown setting gpuNode: did you mean gpuNodes\? \(allowed settings: stackName, region/],
    ['an unknown key with no near match, listing all', { colour: 'blue' }, /^unknown setting colour: allowed settings are stackName, region, /],
    ['a region that does not exist', { region: 'us-east-9' }, /^invalid setting region=us-east-9: is not an AWS region known to aws-cdk-lib \(e\.g\. us-east-1, us-east-2, us-west-2\); did you mean us-east-1\?$/],
    ['a known region that does not sell the GPU type (head on the GPU node)', { region: 'af-south-1', headInstanceType: 'none' }, /^invalid setting region=af-south-1: p5\.48xlarge \(gpuInstanceType\) is not sold there according to the offline region catalog of \d{4}-\d\d-\d\d; regions that offer it: ap-northeast-1, .*us-west-2 \(if the catalog is stale, set ignoreRegionCatalog=true and run npm run preflight\)$/],
    ['a max_model_len shorter than a benchmark workload', { maxModelLen: 9000 }, /^invalid setting maxModelLen=9000: the prefix-reuse benchmark workload needs 12600 tokens \(input \+ output\) per request: at least 12600$/],
    ['a misspelt choice, suggesting the nearest', { nixlBackend: 'LIBFABRC' }, /^invalid setting nixlBackend=LIBFABRC: must be one of UCX, LIBFABRIC; did you mean LIBFABRIC\?$/],
    ['a non-boolean capacityBlock', { capacityBlock: 'yes' }, /^invalid setting capacityBlock=yes: must be true or false$/],
    ['a fractional node count', { gpuNodes: '2.5' }, /^invalid setting gpuNodes=2\.5: must be a whole number/],
    ['an unknown EFA layout', { efaLayout: 'fast' }, /^invalid setting efaLayout=fast: must be one of efa-only, efa$/],
    ['an unknown NIXL backend', { nixlBackend: 'TCP' }, /^invalid setting nixlBackend=TCP: must be one of UCX, LIBFABRIC$/],
    ['more prefill replicas than leave a node for decode', { tensorParallelSize: 8, gpuNodes: 3, prefillReplicas: 3 }, /^invalid setting prefillReplicas=3: 3 prefill replicas × TP8 need 3 p5\.48xlarge nodes, leaving none of the 3 for decode \(prefill and decode never share a node: every KV cache must cross EFA\): at most 2$/],
    ['LMCache CPU memory beyond the node RAM', { lmcacheCpuGbPerRank: 300 }, /^invalid setting lmcacheCpuGbPerRank=300: 8 TP ranks per p5\.48xlarge node × 300 GB = 2400 GB .*at most 192 GB per rank/],
    ['an LMCache disk tier beyond the NVMe store', { lmcacheDiskGb: 5000 }, /^invalid setting lmcacheDiskGb=5000: .*NVMe instance store/],
    ['a VPC without its subnet', { vpcId: 'vpc-0123456789abcdef0' }, /^invalid setting vpcId=vpc-0123456789abcdef0: an existing VPC also needs subnetId/],
    ['a malformed budget e-mail', { budgetEmail: 'me' }, /^invalid setting budgetEmail=me: must be an e-mail address$/],
    ['a head type outside the catalog', { headInstanceType: 't2.micro' }, /^invalid setting headInstanceType=t2\.micro: must be one of .*none$/],
  ];
  for (const [what, raw, expected] of rejections) {
    it(`rejects ${what}`, () => assert.match(onlyProblem(raw), expected));
  }

  it('accepts maxHours=0 (off) and a guard that outlasts a shorter bootstrap', () => {
    assert.equal(parseClusterConfig({ maxHours: '0' }).maxHours, 0);
    assert.equal(parseClusterConfig({ maxHours: '1', bootstrapTimeoutMinutes: '30' }).maxHours, 1);
  });

  it('reports every problem at once, one line each', () => {
    const problems = problemsOf({ tensorParallelSize: '3', maxHours: '-1', efaLayout: 'x' });
    assert.equal(problems.length, 3);
    for (const p of problems) assert.doesNotMatch(p, /\n/);
  });

  it('accepts p5en with 3 nodes and the head on a GPU node', () => {
    const c = parseClusterConfig({ gpuInstanceType: 'p5en.48xlarge', gpuNodes: 3, headInstanceType: 'none' });
    assert.equal(c.gpuInstanceType, 'p5en.48xlarge');
    assert.equal(c.gpuNodes, 3);
    assert.equal(c.headInstanceType, 'none');
  });

  it('reads every setting from the schema, whose documented defaults are the values it applies', () => {
    const c = parseClusterConfig({}) as unknown as Record<string, unknown>;
    for (const key of Object.keys(c)) assert.ok(key in SETTINGS, `${key} has no entry in the schema`);
    for (const [key, spec] of Object.entries(SETTINGS)) {
      assert.ok(spec.doc.length > 10, `${key} lacks a doc line`);
      const text = defaultText(spec);
      if (spec.defaultText !== undefined || text === undefined) continue;
      assert.equal(String(c[key]), text, `${key}: the docs say the default is ${text}`);
    }
    assert.equal(c.availabilityZone, SETTINGS.availabilityZone.defaultText?.replace('<region>', String(c.region)));
  });

  it('checks the head type against the region catalog too', () => {
    const problems = problemsOf({ region: 'af-south-1' });
    assert.deepEqual(problems.map((p) => /\((\w+)\) is not sold/.exec(p)?.[1]), ['gpuInstanceType', 'headInstanceType']);
  });

  it('accepts a max_model_len exactly as long as the longest workload (prefix-reuse: 12000 + 500 + 100 tokens)', () => {
    assert.equal(parseClusterConfig({ maxModelLen: 12600 }).maxModelLen, 12600);
    assert.match(onlyProblem({ maxModelLen: 12599 }), /^invalid setting maxModelLen=12599: /);
  });

  it('lets a stale region catalog be overridden explicitly', () => {
    assert.equal(parseClusterConfig({ region: 'af-south-1', ignoreRegionCatalog: 'true' }).region, 'af-south-1');
  });
});
