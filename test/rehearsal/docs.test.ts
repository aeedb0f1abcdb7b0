import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { DEPLOY_TIME_STEPS } from '../../lib/bootstrap/deploy-time';
import { REHEARSAL_MEASURED_MINUTES, REHEARSAL_PRICE_SOURCE, rehearsalCostTable } from '../../lib/rehearsal/cost';
import { runReport } from '../../lib/report';

const REPO = resolve(__dirname, '..', '..');

describe('the rehearsal\'s docs and sample', () => {
  it('docs/rehearsal.md carries the cost table computed from the measured durations and the catalog\'s prices', () => {
    const doc = readFileSync(join(REPO, 'docs', 'rehearsal.md'), 'utf8');
    const table = /<!-- rehearsal-cost:begin[^>]*-->\n([\s\S]*?)\n<!-- rehearsal-cost:end -->/.exec(doc);
    assert.ok(table, 'markers');
    assert.equal(table[1], rehearsalCostTable());
    assert.ok(doc.includes(REHEARSAL_PRICE_SOURCE.asOf), 'the price date');
  });

  it('docs/deploy-time.md puts the H200 measurements beside the model\'s figures, both as the code has them', () => {
    const doc = readFileSync(join(REPO, 'docs', 'deploy-time.md'), 'utf8');
    const row = (label: string) => doc.split('\n').find((l) => l.startsWith(`| ${label}`)) ?? '';
    const m = (k: keyof typeof DEPLOY_TIME_STEPS) => DEPLOY_TIME_STEPS[k].minutes;
    const build = row('8 LMCache');
    assert.ok(build.includes(`${m('lmcacheBuild').low} / ${m('lmcacheBuild').typical} / ${m('lmcacheBuild').high} min`), build);
    assert.ok(build.includes(`**${Math.round(REHEARSAL_MEASURED_MINUTES.lmcacheBuild * 60)} s**`), build);
    const install = row('6–7');
    const sum = (k: 'low' | 'typical' | 'high') => +(m('torch')[k] + m('stackRest')[k]).toFixed(1);
    assert.ok(install.includes(`${sum('low')} / ${sum('typical')} / ${sum('high')} min`), install);
    assert.ok(install.includes(`${Math.round(REHEARSAL_MEASURED_MINUTES.install * 60)} s`), install);
  });

  it('npm run report reads the committed H200 sample and says first that it is a rehearsal, not performance figures', async () => {
    const run = join(REPO, 'samples', 'rehearsal-h200', 'results', '20261204T180048Z');
    const report = await runReport(run, { json: false, chart: false });
    assert.equal(report.exitCode, 0, report.stderr);
    assert.match(report.stdout, /^\*\*Functional rehearsal\*\* \(rehearsal on 1 x NVIDIA H200/);
    assert.match(report.stdout, /\| collocated-baseline \| 29\.34 \| 1877\.79 \| 58\.69 \| 3\.23 \| 1 \|/);
    // Its evidence was recorded by evidence schema 1, before GPU sample counts: still read.
    assert.match(report.stdout, /\| collocated-baseline \| 53\.43 \/ 112\.83 \| 3\.15 \/ 3\.81 \| 0\.0 \|/);
    assert.doesNotMatch(report.stderr, /unreadable/);
  });
});
