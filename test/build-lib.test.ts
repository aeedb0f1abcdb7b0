/**
 * `npm run build:lib` deletes only what an earlier build wrote (dist/'s manifest) and takes no arguments: a build
 * once deleted docs/ when given `docs` as its output folder.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { CommandFailure } from '../lib/cli/command-line';
import { MANIFEST, copyRuntimeFiles, removePreviousBuild } from '../scripts/build-lib';

const root = resolve(__dirname, '..');

/** A folder holding `files` (relative paths), and a manifest listing `listed` when given. */
function folder(files: readonly string[], listed?: readonly string[]): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'build-lib-')), 'dist');
  for (const f of files) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), 'x');
  }
  if (listed) writeFileSync(join(dir, MANIFEST), `${listed.join('\n')}\n`);
  return dir;
}

describe('npm run build:lib', () => {
  it('removes exactly the files its manifest lists, then the folders they leave empty', () => {
    const files = ['index.js', 'index.d.ts', 'cluster/p5-ray-cluster.js', 'bootstrap/scripts/lib.sh'];
    const dir = folder(files, files);
    removePreviousBuild(dir);
    assert.equal(existsSync(dir), false);
  });

  it('deletes nothing from a folder holding a file no build wrote, and says which', () => {
    const dir = folder(['index.js', 'notes/mine.md'], ['index.js']);
    assert.throws(() => removePreviousBuild(dir), (e: unknown) => e instanceof CommandFailure &&
      /holds 1 file\(s\) no earlier build:lib wrote \(notes\/mine\.md\): nothing was deleted/.test(e.message));
    assert.deepEqual(readdirSync(dir).sort(), [MANIFEST, 'index.js', 'notes']);
  });

  it('deletes nothing from a folder without a manifest (not written by this build)', () => {
    const dir = folder(['architecture.md', 'testing.md']);
    assert.throws(() => removePreviousBuild(dir), /holds 2 file\(s\) no earlier build:lib wrote \(architecture\.md, testing\.md; there is no \.build-lib-files\)/);
    assert.deepEqual(readdirSync(dir).sort(), ['architecture.md', 'testing.md']);
  });

  it('copies the non-TypeScript files of the folders it compiled, and none of a folder the package does not import', () => {
    const lib = folder(['bootstrap/index.ts', 'bootstrap/scripts/node.sh', 'bootstrap/python/__pycache__/x.pyc',
      'bootstrap/python/facts.py', 'rehearsal/rehearse.ts', 'rehearsal/assets/Dockerfile']);
    const out = folder(['bootstrap/index.js']);
    assert.equal(copyRuntimeFiles(lib, out), 2);
    assert.deepEqual(readdirSync(out, { recursive: true }).map(String).sort(),
      ['bootstrap', 'bootstrap/index.js', 'bootstrap/python', 'bootstrap/python/facts.py', 'bootstrap/scripts', 'bootstrap/scripts/node.sh']);
  });

  it('takes no output folder: `npm run build:lib -- docs` is one error line, and docs/ stays', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'build-lib.ts'), 'docs'], { cwd: root, encoding: 'utf8' });
    assert.equal(run.status, 2, run.stderr);
    assert.equal(run.stderr, 'error: unexpected argument docs: this command takes no arguments (see npm run build:lib -- --help)\n');
    assert.ok(existsSync(join(root, 'docs', 'architecture.md')));
  });
});
