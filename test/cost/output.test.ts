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
