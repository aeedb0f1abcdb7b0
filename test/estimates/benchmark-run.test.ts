/** The benchmark-run estimate the cost review prints: its basis is the arithmetic itself, and "deploy" means one thing. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PUBLISHED_RESULTS } from '../../lib/catalog/reference-example';
import { parseClusterConfig } from '../../lib/config/cluster-config';
import { estimateBenchmarkRun } from '../../lib/estimates/benchmark-run';

const estimate = (raw: Record<string, unknown> = {}) => {
  const e = estimateBenchmarkRun(parseClusterConfig(raw));
  assert.ok(e, 'an estimate for the reference example\'s model and instance type');
  return e;
};

describe('the benchmark-run estimate', () => {
  for (const [name, raw] of [['the default full-cluster profile', {}], ['profile=reference', { profile: 'reference' }]] as const) {
    it(`states its hours as a product a reader can redo, from the configurations to the minutes (${name})`, () => {
      const e = estimate(raw);
      const m = /^([\d.]+) h ≈ (\d+) configurations? × \((\d+) points? × \((\d+) min `serve deploy` \+ (\d+) min smoke test and shutdown\) \+ ([\d.]+) min of requests\) = ([\d.]+) min\. /.exec(e.basis);
      assert.ok(m, e.basis);
      const [hours, configurations, points, serveDeploy, smoke, requestMinutes, minutes] = m.slice(1).map(Number);
      assert.equal(hours, e.estimatedHours);
      // To the rounding of the printed figures: the request minutes carry two decimals, each counted once per configuration.
      const redone = configurations * (points * (serveDeploy + smoke) + requestMinutes);
      assert.ok(Math.abs(redone - minutes) <= configurations * 0.005 + 0.005, `${redone} vs ${minutes}`);
      assert.equal((minutes / 60).toFixed(2), hours.toFixed(2));
      const r = /Requests: (\d+) per configuration \(5 × concurrency, summed over the points\) at ([\d.]+) req\/s/.exec(e.basis);
      assert.ok(r, e.basis);
      const concurrencies = (/Points: concurrency ([\d, ]+),/.exec(e.basis)?.[1] ?? '').split(', ').map(Number);
      assert.equal(concurrencies.length, points);
      assert.equal(Number(r[1]), 5 * concurrencies.reduce((a, b) => a + b, 0));
      assert.equal((Number(r[1]) / Number(r[2]) / 60).toFixed(2), requestMinutes.toFixed(2));
      assert.equal(Number(r[2]), Math.min(...PUBLISHED_RESULTS.map((p) => p.requestThroughput)), 'the slowest published rate');
    });
  }

  it('says "deploy" only as `serve deploy` (each point) or `cdk deploy` (not counted), never bare', () => {
    const { basis } = estimate();
    const bare = basis.replace(/docs\/deploy-time\.md/g, '').match(/(?<!`(?:serve|cdk) )\bdeploy\b/g) ?? [];
    assert.deepEqual(bare, [], basis);
    assert.match(basis, /Not counted: the cluster's `cdk deploy` and node bootstrap before it \(docs\/deploy-time\.md\)$/);
  });
});
