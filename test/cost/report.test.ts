import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PRICE_TABLES } from '../../lib/catalog/prices';
import { CostLine, buildCostReport, formatCostTable } from '../../lib/cost';
import { costFixtureTemplate } from './fixture';

const benchmark = { estimatedHours: 3, basis: 'four configurations, test basis' };
const report = (overrides: Partial<Parameters<typeof buildCostReport>[0]> = {}) => buildCostReport({
  template: costFixtureTemplate(), region: 'us-east-1', benchmark, ...overrides,
});
const linesOf = (lines: readonly CostLine[], logicalId: string) => lines.filter((l) => l.logicalId === logicalId);
const near = (actual: number | null, expected: number) =>
  assert.ok(actual !== null && Math.abs(actual - expected) < 1e-6, `expected ${expected}, got ${actual}`);

describe('buildCostReport on a synthesized template', () => {
  it('prices each p5.48xlarge in us-east-1 at the table price, following the launch template by Ref and by GetAtt', () => {
    const r = report();
    const gpu = r.lines.filter((l) => l.resourceType === 'AWS::EC2::Instance' && l.description.startsWith('p5.48xlarge'));
    assert.deepEqual(gpu.map((l) => l.logicalId).sort(), ['GpuNode0', 'GpuNode1']);
    for (const line of gpu) {
      assert.equal(line.unitHourlyUsd, PRICE_TABLES['us-east-1'].ec2OnDemandHourly['p5.48xlarge']);
      assert.equal(line.pricing, 'on-demand');
    }
    near(gpu.reduce((a, l) => a + (l.hourlyUsd ?? 0), 0), 55.04 * 2);
  });

  it('finds every billable resource: volumes once per instance, NAT, EIP, endpoints by AZ, logs, bucket, head node', () => {
    const r = report();
    const gp3 = (id: string) => linesOf(r.lines, id).filter((l) => l.description.startsWith('EBS gp3'));
    assert.equal(gp3('GpuNode0').length, 1);
    assert.equal(gp3('GpuNode0')[0].quantity, 300);
    near(gp3('GpuNode0')[0].hourlyUsd, (300 * 0.08) / 730);
    assert.equal(linesOf(r.lines, 'GpuNode1').find((l) => l.unit === 'IOPS')?.quantity, 3000);
    assert.equal(linesOf(r.lines, 'GpuNode1').find((l) => l.unit === 'MB/s')?.quantity, 125);
    assert.equal(gp3('HeadNode')[0].quantity, 100);
    assert.equal(linesOf(r.lines, 'HeadNode').find((l) => l.unit === 'instance')?.unitHourlyUsd, 0.4032);

    assert.deepEqual(linesOf(r.lines, 'Nat').map((l) => l.pricing).sort(), ['fixed', 'usage-estimate']);
    near(linesOf(r.lines, 'Nat').find((l) => l.pricing === 'usage-estimate')?.quantity ?? null, 90 * 3);
    near(linesOf(r.lines, 'NatEip')[0].hourlyUsd, 0.005);
    const ssm = linesOf(r.lines, 'SsmEndpoint')[0];
    assert.equal(ssm.quantity, 2);
    near(ssm.hourlyUsd, 0.02);
    assert.deepEqual([linesOf(r.lines, 'S3Endpoint')[0].hourlyUsd, linesOf(r.lines, 'S3Endpoint')[0].note], [0, 'free']);
    assert.equal(linesOf(r.lines, 'NodeLogs')[0].pricing, 'usage-estimate');
    assert.equal(linesOf(r.lines, 'Artifacts')[0].pricing, 'usage-estimate');
    assert.equal(linesOf(r.lines, 'Fn')[0].pricing, 'negligible');
    assert.equal(linesOf(r.lines, 'Stop')[0].pricing, 'negligible');
    assert.equal(r.freeResources['AWS::EC2::VPC'], 1);
    assert.equal(r.freeResources['AWS::EC2::LaunchTemplate'], 1);
    assert.equal(linesOf(r.lines, 'Vpc').length, 0);

    const sum = r.lines.reduce((a, l) => a + (l.hourlyUsd ?? 0), 0);
    near(r.totalHourlyUsd, Math.round(sum * 1e6) / 1e6);
    near(r.totalDailyUsd, r.totalHourlyUsd * 24);
    near(r.benchmarkRun?.usd ?? null, r.totalHourlyUsd * 3);
    assert.equal(r.currency, 'USD');
    assert.equal(r.priceDate, PRICE_TABLES['us-east-1'].priceDate);
  });

  it('counts the deploy cache\'s storage in every total, exactly the sum of the lines, and gives its monthly figure apart', () => {
    const deployCache = { bucketName: 'p5-ray-cache-111122223333-us-east-1', gb: 77, basis: 'test basis' };
    const r = report({ deployCache });
    const without = report();
    const cache = linesOf(r.lines, 'DeployCache');
    assert.equal(cache.length, 1);
    // S3 Standard in us-east-1: $0.023 per GB-month over 730 h; a fraction of a cent an hour, below any printed rounding.
    const s3 = PRICE_TABLES['us-east-1'].s3StandardGbMonth;
    assert.equal(cache[0].hourlyUsd, Math.round((77 * s3) / 730 * 1e6) / 1e6);
    assert.ok((cache[0].hourlyUsd ?? 0) > 0 && (cache[0].hourlyUsd ?? 1) < 0.005);
    // Exactly the sum of the lines (six decimals, as the report rounds), the cache among them: not the sum without it.
    const exact = (lines: readonly CostLine[]) => Math.round(lines.reduce((a, l) => a + (l.hourlyUsd ?? 0), 0) * 1e6) / 1e6;
    assert.equal(r.totalHourlyUsd, exact(r.lines));
    assert.equal(r.totalHourlyUsd, Math.round((without.totalHourlyUsd + (cache[0].hourlyUsd ?? 0)) * 1e6) / 1e6);
    assert.equal(r.totalDailyUsd, Math.round(r.totalHourlyUsd * 24 * 1e6) / 1e6);
    assert.equal(r.benchmarkRun?.usd, Math.round(r.totalHourlyUsd * 3 * 1e6) / 1e6);
    if (!r.spendGuard.enabled || !without.spendGuard.enabled) throw new Error('spend guard expected on');
    // Billed whether or not the nodes run: in the cost until the stop and in what keeps billing after it.
    assert.equal(r.spendGuard.costAtStopUsd, Math.round(r.totalHourlyUsd * 8 * 1e6) / 1e6);
    assert.equal(r.spendGuard.hourlyAfterStopUsd, Math.round((without.spendGuard.hourlyAfterStopUsd + (cache[0].hourlyUsd ?? 0)) * 1e6) / 1e6);
    // And apart, as the monthly figure it keeps costing after the cluster is destroyed.
    assert.deepEqual(r.deployCache, { bucketName: deployCache.bucketName, gb: 77, hourlyUsd: cache[0].hourlyUsd, monthlyUsd: Math.round(77 * s3 * 1e6) / 1e6 });
    assert.match(formatCostTable(r), /^Deploy cache: \$1\.77 a month \(77 GB in s3:\/\/p5-ray-cache-111122223333-us-east-1\), in the total above at \$0\.0024\/h; it keeps billing after `cdk destroy` of this stack/m);
    assert.ok(r.notes.some((n) => n.startsWith('The deploy cache (77 GB) is in the totals above at $0.002426/h')), r.notes.join('\n'));
    assert.equal(without.deployCache, undefined);
    assert.doesNotMatch(formatCostTable(without), /Deploy cache/);
  });

  it('lists an unrecognized resource type as unknown with a warning, never as zero', () => {
    const r = report();
    const mystery = linesOf(r.lines, 'Mystery')[0];
    assert.equal(mystery.hourlyUsd, null);
    assert.ok(r.unknownLines.some((l) => l.logicalId === 'Mystery'));
    assert.ok(r.warnings.some((w) => w.includes('AWS::Mystery::Thing')));
    assert.equal(r.totalIsLowerBound, true);
  });

  it('prices the instances of a region without a services table from the instance catalog, the rest unknown', () => {
    const r = report({ region: 'ap-northeast-1' });
    const gpu = r.lines.filter((l) => l.logicalId.startsWith('GpuNode') && l.unit === 'instance');
    assert.deepEqual(gpu.map((l) => l.unitHourlyUsd), [68.8, 68.8]);
    assert.equal(linesOf(r.lines, 'Nat').every((l) => l.hourlyUsd === null), true);
    assert.equal(r.totalIsLowerBound, true);
    assert.equal(r.instancePriceUnknown, false);
    assert.ok(r.warnings.some((w) => w.includes('no dated price table for the services of region ap-northeast-1')));
    assert.match(r.priceSource, /SkyPilot AWS catalog/);
  });

  it('marks the totals unknown, never $0, when an instance has no price (p5e has no on-demand price anywhere)', () => {
    const template = structuredClone(costFixtureTemplate());
    template.Resources.GpuLaunchTemplate.Properties.LaunchTemplateData.InstanceType = 'p5e.48xlarge';
    const r = report({ template });
    assert.equal(r.instancePriceUnknown, true);
    assert.ok(r.warnings.some((w) => w.includes('no on-demand price for p5e.48xlarge in us-east-1')));
    assert.match(formatCostTable(r), /^Total: unknown \(the priced lines alone: \$\d+\.\d\d\)\/h/m);
    assert.doesNotMatch(formatCostTable(r), /Total: ≥ \$/);
  });

  it('prices the GPU nodes on the Capacity Block model when their launch template says capacity-block', () => {
    const template = structuredClone(costFixtureTemplate());
    template.Resources.GpuLaunchTemplate.Properties.LaunchTemplateData.InstanceMarketOptions = { MarketType: 'capacity-block' };
    const r = report({ template });
    const gpu = r.lines.filter((l) => l.logicalId.startsWith('GpuNode') && l.unit === 'instance');
    assert.equal(gpu.length, 2);
    for (const line of gpu) {
      assert.equal(line.pricing, 'capacity-block');
      assert.equal(line.unitHourlyUsd, PRICE_TABLES['us-east-1'].capacityBlockHourly['p5.48xlarge'].hourlyUsd);
      assert.match(line.note ?? '', /paid up front/);
    }
    assert.equal(linesOf(r.lines, 'HeadNode').find((l) => l.unit === 'instance')?.pricing, 'on-demand');
    assert.ok(r.notes.some((n) => n.includes('charged up front')));
    assert.equal(r.capacityBlock, true);
  });

  it('reads a capacity-block market type from the launch template, and reports an unknown block rate', () => {
    const template = structuredClone(costFixtureTemplate());
    template.Resources.GpuLaunchTemplate.Properties.LaunchTemplateData.InstanceMarketOptions = { MarketType: 'capacity-block' };
    const r = report({ template, region: 'us-west-2' });
    const gpu = r.lines.filter((l) => l.logicalId.startsWith('GpuNode') && l.unit === 'instance');
    assert.ok(gpu.every((l) => l.hourlyUsd === null), 'us-west-2 has no p5 Capacity Block rate');
    assert.ok(r.warnings.some((w) => w.includes('no Capacity Block rate for p5.48xlarge in us-west-2')));
  });

  it('summarizes the spend guard from the template schedule, or warns loudly when it is off', () => {
    const on = report();
    assert.equal(on.spendGuard.enabled, true);
    if (on.spendGuard.enabled) {
      assert.deepEqual(on.spendGuard.targetInstanceLogicalIds, ['GpuNode0', 'GpuNode1']);
      near(on.spendGuard.costAtStopUsd, on.totalHourlyUsd * 8);
      near(on.spendGuard.hourlyAfterStopUsd, on.totalHourlyUsd - 2 * 55.04);
    }
    const withoutGuard = structuredClone(costFixtureTemplate());
    delete withoutGuard.Resources.StopTime;
    const off = report({ template: withoutGuard });
    assert.equal(off.spendGuard.costAtStopUsd, 'off');
    assert.ok(off.warnings.some((w) => w.startsWith('SPEND GUARD OFF')));
  });
});
