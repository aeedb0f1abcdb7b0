/**
 * Every npm script a user can run answers `--help` and rejects an unknown argument in one shape: usage, summary,
 * options, exit codes on stdout with exit code 0; one `error:` line on stderr with exit code 2 (the code its help
 * gives for bad arguments), and nothing written. The list is package.json's own, so a new script cannot escape it;
 * the scripts run as npm runs them (`sh -c "<script> <args>"` with node_modules/.bin first on PATH).
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runToEnd, type Ended } from './helpers/run-to-end';

const root = resolve(__dirname, '..');
const scripts: Record<string, string> = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts;

/** Scripts that are not commands of this project, each with the reason. */
const EXEMPT: Record<string, string> = {
  build: 'tsc --noEmit: the type check, for developers',
  synth: 'cdk synth: the CDK CLI, with its own --help',
  test: 'scripts/test.sh, the whole suite (tsc, eslint, node --test), for developers and CI',
  lint: 'eslint, for developers',
};
const commands = Object.keys(scripts).filter((name) => !(name in EXEMPT)).sort();
/**
 * Node's on-disk compile cache, shared by this file's thirty runs: each would otherwise compile the same modules
 * (the AWS SDK clients, lib/) anew. Outside the checkout, so it is no file a script wrote.
 */
const compileCache = mkdtempSync(join(tmpdir(), 'p5-npm-scripts-compile-'));
after(() => rmSync(compileCache, { recursive: true, force: true }));

/** `npm run <name> -- <args>`: npm runs the script's line with sh, the arguments appended, node_modules/.bin first. */
function npmRun(name: string, args: readonly string[]): Promise<Ended> {
  return runToEnd('sh', ['-c', `${scripts[name]} "$@"`, 'sh', ...args], {
    cwd: root,
    env: {
      PATH: `${join(root, 'node_modules', '.bin')}:${resolve(process.execPath, '..')}:/usr/bin:/bin`,
      HOME: tmpdir(),
      AWS_EC2_METADATA_DISABLED: 'true',
      NODE_COMPILE_CACHE: compileCache,
    },
  }, 60_000);
}

/**
 * Every file of the checkout with its modification time: what git tracks or would track (ignored files, such as
 * dependencies, caches and a developer's local scratch folders, left out), plus a file or folder a script might create
 * at the root under an argument's name.
 */
function snapshot(): Map<string, number> {
  const into = new Map<string, number>();
  const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' });
  for (const rel of listed.split('\0').filter(Boolean)) {
    const path = join(root, rel);
    if (existsSync(path)) into.set(path, lstatSync(path).mtimeMs);
  }
  return into;
}

describe('every npm script in package.json', () => {
  const help = new Map<string, Ended>();
  const unknown = new Map<string, Ended>();
  let before_: Map<string, number>;
  let after_: Map<string, number>;
  before(async () => {
    before_ = snapshot();
    // Two at a time: each is a Node process compiling TypeScript.
    const queue = commands.flatMap((name) => [[name, '--help'], [name, '--no-such-option']]);
    const workers = Array.from({ length: 2 }, async () => {
      for (let job = queue.shift(); job; job = queue.shift()) {
        const [name, arg] = job;
        (arg === '--help' ? help : unknown).set(name, await npmRun(name, [arg]));
      }
    });
    await Promise.all(workers);
    after_ = snapshot();
  });

  it('is a command, or exempt with a reason (and every exemption names a script that exists)', () => {
    for (const name of Object.keys(EXEMPT)) assert.ok(name in scripts, `exempt ${name} is not in package.json`);
    assert.ok(commands.length >= 13, commands.join(', '));
  });

  it('has, in the construct package, only npm\'s prepack hook, which runs build:lib\'s command (tested here)', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'packages', 'p5-ray-kv-cluster', 'package.json'), 'utf8'));
    assert.deepEqual(pkg.scripts, { prepack: 'tsx ../../scripts/build-lib.ts' });
    assert.equal(scripts['build:lib'], 'tsx scripts/build-lib.ts');
  });

  it('answers --help with usage, summary, options and exit codes on stdout, exit code 0, nothing on stderr', () => {
    for (const name of commands) {
      const run = help.get(name) as Ended;
      const what = `npm run ${name} -- --help`;
      assert.equal(run.code, 0, `${what}: ${run.stderr}`);
      assert.equal(run.stderr, '', what);
      const lines = run.stdout.trimEnd().split('\n');
      assert.match(lines[0], new RegExp(`^usage: npm run ${name.replace(/[-:]/g, '\\$&')} -- .*\\[options\\]$`), what);
      assert.equal(lines[1], '', what);
      assert.ok(lines.includes('options:') && lines.indexOf('exit codes:') > lines.indexOf('options:'), `${what}: ${run.stdout}`);
      assert.ok(lines.some((l) => /^ {2}-h, --help +show this help and exit$/.test(l)), what);
      const exits = lines.slice(lines.indexOf('exit codes:') + 1);
      assert.ok(exits.some((l) => /^ {2}2 +bad arguments/.test(l)), `${what}: exit code 2 is for bad arguments:\n${exits.join('\n')}`);
    }
  });

  it('rejects an unknown argument with one error: line naming it, exit code 2, and nothing on stdout', () => {
    for (const name of commands) {
      const run = unknown.get(name) as Ended;
      const what = `npm run ${name} -- --no-such-option`;
      assert.equal(run.code, 2, `${what}: ${run.stdout}${run.stderr}`);
      assert.equal(run.stdout, '', what);
      assert.match(run.stderr, new RegExp(`^error: unknown argument --no-such-option: the options are --\\S.* \\(see npm run ${name.replace(/[-:]/g, '\\$&')} -- --help\\)\\n$`), what);
    }
  });

  it('writes nothing, neither for --help nor for an unknown argument', () => {
    const changed = [...after_].filter(([path, mtime]) => before_.get(path) !== mtime).map(([path]) => path);
    assert.deepEqual(changed, []);
    for (const name of ['--help', '--no-such-option']) assert.equal(existsSync(join(root, name)), false, `a folder named ${name}`);
  });
});
