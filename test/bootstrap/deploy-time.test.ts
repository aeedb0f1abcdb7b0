/** The deploy-time model (lib/bootstrap/deploy-time.ts) and the figures docs/deploy-time.md and the README quote. */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEPLOY_TIME_STEPS, firstDeploy, firstDeployJobs, formatMinutes, repeatDeploy, serialDeploy } from '../../lib/bootstrap/deploy-time';

const root = join(__dirname, '..', '..');
const doc = readFileSync(join(root, 'docs', 'deploy-time.md'), 'utf8');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

test('the totals docs/deploy-time.md and the README quote are what the model computes', () => {
  const row = (x: ReturnType<typeof firstDeploy>, bold: boolean) =>
    `| ${bold ? '**' : ''}${x.typical.toFixed(1)} min${bold ? '**' : ''} | ${x.low.toFixed(1)}–${x.high.toFixed(1)} |`;
  assert.ok(doc.includes(row(serialDeploy(), false)), `docs: ${row(serialDeploy(), false)}`);
  assert.ok(doc.includes(row(firstDeploy(), true)), `docs: ${row(firstDeploy(), true)}`);
  assert.ok(doc.includes(row(repeatDeploy(), true)), `docs: ${row(repeatDeploy(), true)}`);
  const jobs = firstDeployJobs();
  assert.ok(doc.includes(`${jobs.typical.toFixed(1)} min\n  (${jobs.low.toFixed(1)}–${jobs.high.toFixed(1)})`), 'docs: the jobs\' total');
  const saved = (a: number, b: number) => (a - b).toFixed(1);
  assert.ok(doc.includes(`**${saved(serialDeploy().typical, firstDeploy().typical)} min** (${serialDeploy().typical.toFixed(1)} → ${firstDeploy().typical.toFixed(1)})`));
  assert.ok(doc.includes(`**${saved(firstDeploy().typical, repeatDeploy().typical)} min more** (${firstDeploy().typical.toFixed(1)} → ${repeatDeploy().typical.toFixed(1)})`));
  for (const total of [firstDeploy(), repeatDeploy()]) assert.ok(readme.includes(formatMinutes(total)), `README: ${formatMinutes(total)}`);
});

test('the docs list every step of the model with its figures', () => {
  for (const step of Object.values(DEPLOY_TIME_STEPS)) {
    const { low, typical, high } = step.minutes;
    assert.ok(doc.includes(`${low} / ${typical} / ${high}`), `${step.what}: ${low} / ${typical} / ${high}`);
  }
});

test('the desk model\'s typical totals are within the goals: a first deploy within 11 minutes, a repeat deploy within 8', () => {
  assert.ok(firstDeploy().typical <= 11, formatMinutes(firstDeploy()));
  assert.ok(repeatDeploy().typical <= 8, formatMinutes(repeatDeploy()));
  // The LMCache build, started after torch, is the slowest job; the download is not on the critical path.
  const { torch, lmcacheBuild, modelDownload } = DEPLOY_TIME_STEPS;
  assert.equal(firstDeployJobs().typical, torch.minutes.typical + lmcacheBuild.minutes.typical);
  assert.ok(modelDownload.minutes.typical < firstDeployJobs().typical);
});

test('a repeat deploy\'s weights restore waits for the NAT route when the route is later than the node', () => {
  // The Hub is asked which commit main is before the S3 restore starts: a 10-minute NAT gateway delays it.
  const steps = DEPLOY_TIME_STEPS as unknown as Record<string, { minutes: { low: number; typical: number; high: number } }>;
  const saved = steps.natRoute.minutes;
  try {
    steps.natRoute.minutes = { low: 10, typical: 10, high: 10 };
    const { weightsRestore, checks, join: joinStep, monitoringGate } = DEPLOY_TIME_STEPS;
    assert.equal(repeatDeploy().typical, Math.round((10 + weightsRestore.minutes.typical + checks.minutes.typical +
      joinStep.minutes.typical + monitoringGate.minutes.typical) * 10) / 10);
  } finally {
    steps.natRoute.minutes = saved;
  }
});

/**
 * Every sentence of the README and docs that gives a deploy or bootstrap a duration in minutes, other than a bound
 * (a timeout, a deadline, "up to", "at most", a wait), quotes the model and says so: the figures in it are the
 * model's, never a number of its own (docs/deploy-time.md is the model's own page, tested above; operations.md's watch
 * example is checked against the model in test/ops/status.test.ts).
 */
test('every deploy duration the README and docs quote is the model\'s, and labelled as the model', () => {
  const files = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md') && f !== 'deploy-time.md').map((f) => join('docs', f))];
  const figures = new Set([serialDeploy(), firstDeploy(), repeatDeploy()].flatMap((x) => [x.low, x.typical, x.high]).flatMap((v) => [v.toFixed(1), String(Math.round(v))]));
  const claims: string[] = [];
  for (const file of files) {
    const text = readFileSync(join(root, file), 'utf8').replace(/```[\s\S]*?```/g, '').replace(/\s*\n\s*/g, ' ');
    for (const sentence of text.split(/(?<=[.:;|])\s+(?=[A-Z`*(|#])/)) {
      const minutes = [...sentence.matchAll(/\b(\d+(?:\.\d+)?)[- ]?(?:min|minutes?)\b/g)].map((m) => m[1]);
      // Ray Serve's `serve deploy` of one application (an engine start) is not the stack's deploy.
      if (minutes.length === 0 || !/deploy|bootstrap/i.test(sentence.replace(/`serve deploy`/g, ''))) continue;
      if (/timeout|deadline|up to|at most|bounded|\bwaits?\b|maxHours|after \d+ minutes/i.test(sentence)) continue;
      claims.push(`${file}: ${sentence}`);
      assert.match(sentence, /model/, `${file} gives a deploy a duration without saying it is the deploy-time model's: ${sentence}`);
      for (const m of minutes) assert.ok(figures.has(m), `${file}: ${m} min is none of the model's figures (${[...figures].join(', ')}): ${sentence}`);
    }
  }
  // The README's, testing.md's and preflight.md's: found, so the scan itself works.
  assert.ok(claims.length >= 3, claims.join('\n'));
  assert.match(readme, /\*\*How long a deploy takes \(modelled, not yet measured\)\.\*\*/);
});
