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
