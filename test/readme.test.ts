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

  it('show every `cdk destroy` with the deploy\'s settings, say what a destroy with other settings does, and what any destroy leaves', () => {
    for (const file of markdownFiles()) {
      for (const [, block] of readFileSync(file, 'utf8').matchAll(/```[^\n]*\n([\s\S]*?)```/g)) {
        for (const line of block.split('\n').filter((l) => /^\s*(npx )?cdk destroy\b/.test(l))) assert.match(line, /[\s[]-c /, `${file}: ${line}`);
      }
    }
    const flat = (text: string) => text.replace(/\s*\n\s*/g, ' ');
    assert.match(flat(readme), /`cdk destroy` looks up a stack that does not exist, prints `✅ {2}P5RayKvCluster: destroyed` and deletes nothing/);
    const operations = readFileSync(join(root, 'docs', 'operations.md'), 'utf8');
    assert.match(flat(operations), /## What `cdk destroy` leaves Run it with the settings of the deploy: .* prints `✅ {2}P5RayKvCluster: destroyed`, and the real cluster keeps billing/);
    // What the docs say of the pinned CDK CLI, checked in its code: a stack that does not exist is skipped, then "destroyed".
    const cli = readFileSync(join(root, 'node_modules', 'aws-cdk', 'lib', 'index.js'), 'utf8');
    const destroyStack = cli.slice(cli.indexOf('async function destroyStack('), cli.indexOf('async function destroyStack(') + 400);
    assert.match(destroyStack, /if \(!currentStack\.exists\) \{\s*return /);
    assert.ok(cli.includes('\\u2705  ${import_chalk28.default.blue(stack.displayName)}: ${action}ed'), 'the CLI prints ✅  <stack>: destroyed');
    // Wherever the docs say nothing outlives a destroy, they name what does: the CDK bootstrap's copies of the assets.
    let claims = 0;
    for (const file of [...markdownFiles(), join(root, 'lib', 'config', 'schema.ts')]) {
      for (const claim of flat(readFileSync(file, 'utf8')).matchAll(/nothing (of the cluster )?outlives `?cdk destroy`?[^.;)]*/g)) {
        claims++;
        assert.match(claim[0], /but .*bootstrap/, `${file}: ${claim[0]}`);
      }
    }
    assert.ok(claims >= 3, `${claims}: README (twice, once in the settings table) and schema.ts`);
  });

  it('say once how this project differs from the reference example: one section, each difference once', () => {
    const sections = markdownFiles().flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/^#+ .*differ.*reference example.*$/gim)]
      .map((m) => `${file.slice(root.length + 1)}: ${m[0]}`));
    assert.deepEqual(sections, ['docs/serve-and-benchmarks.md: ## Differences from the reference example, and why']);
    const doc = readFileSync(join(root, 'docs', 'serve-and-benchmarks.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Differences from the reference example'));
    const leads = [...section.matchAll(/^- \*\*(.+?)\*\*/gm)].map((m) => m[1]);
    assert.ok(leads.length >= 10, leads.join('\n'));
    // The same difference told twice shows as the same leading words (e.g. two bullets on NIXL's `backends`).
    const key = (lead: string) => lead.toLowerCase().replace(/[^a-z0-9 ]/g, '').split(' ').slice(0, 2).join(' ');
    assert.deepEqual(leads.filter((l, i) => leads.findIndex((o) => key(o) === key(l)) !== i), []);
  });

  it('cite the upstream reference by name, never the brief, an issue number or a path outside the repository', () => {
    for (const file of markdownFiles()) {
      const text = readFileSync(file, 'utf8');
      assert.doesNotMatch(text, /\bthe brief\b|\.\.\/shared|\bissue #?\d+/i, file);
    }
    assert.match(readme, /anyscale\/ray-serve-llm-perf-examples/);
  });
});
