import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildCostReport, formatCostTable, refreshPricesLive, reviewCost, writeCostReport } from '../../lib/cost';
import { LocalEndpoint, startLocalEndpoint } from '../helpers/local-endpoint';
import { costFixtureTemplate } from './fixture';

const input = { region: 'us-east-1', benchmark: { estimatedHours: 2.5, basis: 'test basis' } };

describe('cost report output', () => {
  it('prints an aligned table with the total, price date and source', () => {
    const report = buildCostReport({ ...input, template: costFixtureTemplate() });
    const text = formatCostTable(report);
    const rows = text.split('\n');
    const gpuRows = rows.filter((r) => r.startsWith('GpuNode'));
    assert.ok(gpuRows.some((r) => r.trimEnd().endsWith('$55.0400')));
    assert.match(text, new RegExp(`Total: ≥ \\$${report.totalHourlyUsd.toFixed(2)}/h`));
    assert.ok(text.includes(`Prices: ${report.priceDate}, ${report.priceSource}`));
    assert.match(text, /Spend guard: GPU nodes stop 8 h after they start \(every start\)/);
    const header = rows[1];
    // Every line of the table body is as wide as the rule under the header, give or take trailing blanks.
    assert.ok(rows.slice(3, 3 + report.lines.length).every((r) => r.length <= rows[2].length));
    assert.ok(header.startsWith('Resource'));
  });

  it('writes cost-report.json with the fields the issue asks for, and cost-report.md', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cost-'));
    const report = buildCostReport({ ...input, template: costFixtureTemplate() });
    const { jsonPath, mdPath } = writeCostReport(dir, report);
    const json = JSON.parse(readFileSync(jsonPath, 'utf8'));
    for (const key of ['region', 'currency', 'priceDate', 'totalHourlyUsd', 'totalDailyUsd', 'lines']) assert.ok(key in json, key);
    assert.equal(typeof json.totalHourlyUsd, 'number');
    for (const key of ['logicalId', 'resourceType', 'description', 'quantity', 'unitHourlyUsd', 'hourlyUsd']) {
      assert.ok(json.lines.every((l: Record<string, unknown>) => key in l), key);
    }
    const md = readFileSync(mdPath, 'utf8');
    assert.match(md, /^# Cost review — us-east-1/);
    assert.match(md, /\| GpuNode0 \| AWS::EC2::Instance \| p5\.48xlarge on-demand/);
  });
});

/** The fixture without its unpriceable resource, so that every total is exact. */
function pricedTemplate(change: (t: Record<string, any>) => void = () => undefined): Record<string, any> {
  const template = structuredClone(costFixtureTemplate());
  delete template.Resources.Mystery;
  change(template);
  return template;
}
const dollars = (text: string, pattern: RegExp): number[] => {
  const m = pattern.exec(text);
  assert.ok(m, `${pattern} in:\n${text}`);
  return m.slice(1).map(Number);
};
const guardLine = (text: string) => text.split('\n').find((l) => l.startsWith('Spend guard: ')) ?? '';

describe('the cost review\'s derived figures, worded so a reader can redo them', () => {
  it('gives the cost until the spend guard\'s stop as maxHours × the hourly total, and the cost after it as the total less the stopped GPU nodes\' compute', () => {
    const report = buildCostReport({ ...input, template: pricedTemplate() });
    const line = guardLine(formatCostTable(report));
    const [until, hours, hourly] = dollars(line, /cost until then \$([\d.]+) \((\d+) h × \$([\d.]+)\/h\)/);
    assert.equal(until.toFixed(2), (hours * hourly).toFixed(2));
    const [after, stopped] = dollars(line, /then \$([\d.]+)\/h: the total less the \$([\d.]+)\/h compute of the 2 GPU nodes it stops \(a stopped instance bills no compute\)/);
    assert.equal(stopped, 2 * 55.04);
    assert.equal(after.toFixed(2), (hourly - stopped).toFixed(2));
    assert.match(line, /the head node, volumes, NAT gateway and the rest bill on until the stack is deleted$/);
  });

  it('knows the cost after the stop when only the GPU price is unknown: a stopped instance bills no compute, priced or not', () => {
    const report = buildCostReport({ ...input, template: pricedTemplate((t) => { t.Resources.GpuLaunchTemplate.Properties.LaunchTemplateData.InstanceType = 'p5e.48xlarge'; }) });
    const text = formatCostTable(report);
    assert.match(text, /^Total: unknown \(the priced lines alone: \$[\d.]+\)\/h/m, 'the total itself is unknown');
    const line = guardLine(text);
    const [perHour, until] = dollars(line, /cost until then unknown \(8 h × a total that lacks an instance's price; the priced lines alone: 8 h × \$([\d.]+)\/h = \$([\d.]+)\)/);
    assert.equal(until.toFixed(2), (8 * perHour).toFixed(2));
    const [after] = dollars(line, /then \$([\d.]+)\/h: the total less the compute of the 2 GPU nodes it stops, unpriced here \(a stopped instance bills no compute\)/);
    assert.equal(after.toFixed(2), perHour.toFixed(2), 'everything priced keeps billing; the unpriced GPU compute stops');
    assert.doesNotMatch(line, /\), then unknown/);
  });

  it('leaves the cost after the stop unknown when an unpriced instance keeps running (the head), and the whole total when reserved capacity bills on', () => {
    const head = buildCostReport({ ...input, template: pricedTemplate((t) => { t.Resources.HeadNode.Properties.InstanceType = 'x9z.unknown'; }) });
    assert.match(guardLine(formatCostTable(head)), /then unknown \(the priced lines alone: \$[\d.]+\)\/h: the total less the \$110\.0800\/h compute of the 2 GPU nodes/);
    const odcr = buildCostReport({ ...input, template: pricedTemplate((t) => {
      t.Resources.GpuLaunchTemplate.Properties.LaunchTemplateData.CapacityReservationSpecification = { CapacityReservationTarget: { CapacityReservationId: 'cr-0123456789abcdef0' } };
    }) });
    const line = guardLine(formatCostTable(odcr));
    assert.match(line, new RegExp(`then \\$${odcr.totalHourlyUsd.toFixed(2)}/h: the whole total: the GPU nodes' reserved capacity bills whether they run or not`));
  });

  it('prints the benchmark run as hours × the hourly total, to the cent', () => {
    const report = buildCostReport({ ...input, template: pricedTemplate() });
    const line = formatCostTable(report).split('\n').find((l) => l.startsWith('Benchmark run: ')) ?? '';
    const [usd, hours, hourly] = dollars(line, /^Benchmark run: \$([\d.]+) = ([\d.]+) h × \$([\d.]+)\/h; test basis$/);
    assert.equal(hours, 2.5);
    assert.equal(usd.toFixed(2), (hours * hourly).toFixed(2));
  });
});

/** A stand-in for the Price List endpoint: answers GetProducts in the JSON 1.1 protocol, or fails on demand. */
describe('live price refresh against a local Price List endpoint', () => {
  let server: LocalEndpoint;
  let endpoint = '';
  let fail = false;
  const requests: Array<{ target: string | undefined; body: any }> = [];
  const product = (usd: string) => JSON.stringify({
    product: { attributes: { instanceType: 'p5.48xlarge' } },
    terms: { OnDemand: { 'ABC.JRTCKXETXF': { priceDimensions: { 'ABC.JRTCKXETXF.6YS6EN2CT7': { unit: 'Hrs', pricePerUnit: { USD: usd } } } } } },
  });

  before(async () => {
    server = await startLocalEndpoint((req, raw) => {
      requests.push({ target: req.headers['x-amz-target'] as string | undefined, body: JSON.parse(raw) });
      const headers = { 'content-type': 'application/x-amz-json-1.1' };
      if (fail) return { status: 400, headers, body: JSON.stringify({ __type: 'AccessDeniedException', message: 'not authorized for pricing:GetProducts' }) };
      return { headers, body: JSON.stringify({ FormatVersion: 'aws_v1', PriceList: [product('49.1234000000')], NextToken: null }) };
    });
    endpoint = server.url;
  });
  after(() => server.close());
  const credentials = { accessKeyId: 'AKIDFAKEFORTEST', secretAccessKey: 'fake-secret' };

  it('merges the live on-demand price over the table and dates the source', async () => {
    fail = false;
    requests.length = 0;
    const result = await refreshPricesLive('us-east-1', ['p5.48xlarge'], { endpoint, credentials });
    assert.equal(result.live, true);
    assert.equal(result.prices?.ec2OnDemandHourly['p5.48xlarge'], 49.1234);
    assert.equal(result.prices?.ec2OnDemandHourly['m7i.2xlarge'], 0.4032);
    assert.match(result.prices?.source ?? '', /AWS Price List API \(live/);
    assert.equal(requests[0].target, 'AWSPriceListService.GetProducts');
    assert.equal(requests[0].body.ServiceCode, 'AmazonEC2');
    assert.ok(requests[0].body.Filters.some((f: any) => f.Field === 'regionCode' && f.Value === 'us-east-1'));

    const report = await reviewCost({ ...input, template: costFixtureTemplate(), live: true, liveOptions: { endpoint, credentials } });
    assert.equal(report.lines.find((l) => l.logicalId === 'GpuNode0' && l.unit === 'instance')?.unitHourlyUsd, 49.1234);
  });

  it('falls back to the dated table with a warning when the API refuses', async () => {
    fail = true;
    const result = await refreshPricesLive('us-east-1', ['p5.48xlarge'], { endpoint, credentials });
    assert.equal(result.live, false);
    assert.equal(result.prices?.ec2OnDemandHourly['p5.48xlarge'], 55.04);
    assert.match(result.warnings[0], /live price refresh failed \(AccessDeniedException/);

    const report = await reviewCost({ ...input, template: costFixtureTemplate(), live: true, liveOptions: { endpoint, credentials } });
    assert.ok(report.warnings.some((w) => w.startsWith('live price refresh failed')));
    assert.equal(report.lines.find((l) => l.logicalId === 'GpuNode0' && l.unit === 'instance')?.unitHourlyUsd, 55.04);
  });
});
