import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { SETTINGS_PROPS_FILE, settingsPropsSource } from '../lib/config/docs';
import { withModuleGraph, withSettingsTable, withUpdatePolicies } from '../scripts/generate';
import { moduleCycles } from '../scripts/module-graph';

const root = join(__dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** README.md, every Markdown file under docs/, and the construct package's README. */
function markdownFiles(): string[] {
  const docs = existsSync(join(root, 'docs')) ? readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(root, 'docs', f)) : [];
  return [join(root, 'README.md'), ...docs, join(root, 'packages', 'p5-ray-kv-cluster', 'README.md')];
}

describe('README and docs', () => {
  it('start with the set-up + main-job command and the set-up + test command', () => {
    const head = readme.split('\n').slice(0, 4).join('\n');
    assert.match(head, /`npm ci && npx cdk synth --quiet`/);
    assert.match(head, /`bash scripts\/setup\.sh && npm test`/);
  });

  it('name the same test command that .ci/run runs', () => {
    const ci = readFileSync(join(root, '.ci', 'run'), 'utf8');
    assert.match(ci, /^bash scripts\/setup\.sh$/m);
    assert.match(ci, /^npm test$/m);
  });

  it('document every setting exactly as the schema defines it (npm run generate)', () => {
    assert.equal(readme, withSettingsTable(readme), 'README.md settings table is stale: run npm run generate');
  });

  it('keep the construct\'s generated props interface current (npm run generate)', () => {
    assert.equal(readFileSync(join(root, SETTINGS_PROPS_FILE), 'utf8'), settingsPropsSource(), `${SETTINGS_PROPS_FILE} is stale: run npm run generate`);
  });

  it('show the module graph of lib/ as the imports stand (npm run generate)', () => {
    const architecture = readFileSync(join(root, 'docs', 'architecture.md'), 'utf8');
    assert.equal(architecture, withModuleGraph(architecture), 'docs/architecture.md module graph is stale: run npm run generate');
  });

  it('say what a change of each setting does to a deployed cluster, as update-policy.ts says (npm run generate)', () => {
    const operations = readFileSync(join(root, 'docs', 'operations.md'), 'utf8');
    assert.equal(operations, withUpdatePolicies(operations), 'docs/operations.md update policies are stale: run npm run generate');
  });

  it('describe a module graph without cycles between folders', () => {
    assert.deepEqual(moduleCycles(), []);
  });

  it('have every relative link resolve inside the repository', () => {
    const broken: string[] = [];
    for (const file of markdownFiles()) {
      const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^(https?:|mailto:|#)/.test(target)) continue;
        const path = resolve(dirname(file), decodeURIComponent(target.split('#')[0]));
        if (!path.startsWith(`${root}/`) || !existsSync(path)) broken.push(`${file.slice(root.length + 1)} → ${target}`);
      }
    }
    assert.deepEqual(broken, []);
  });

  it('cite the upstream reference by name, never the brief, an issue number or a path outside the repository', () => {
    for (const file of markdownFiles()) {
      const text = readFileSync(file, 'utf8');
      assert.doesNotMatch(text, /\bthe brief\b|\.\.\/shared|\bissue #?\d+/i, file);
    }
    assert.match(readme, /anyscale\/ray-serve-llm-perf-examples/);
  });
});
