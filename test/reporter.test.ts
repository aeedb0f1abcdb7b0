/** The test command's reporter (test/reporter.mts), driven by Node's own runner over small test files. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const REPORTER = join(__dirname, 'reporter.mts');

function runReporter(files: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'p5-reporter-'));
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
  // The runner loads tsx (for the reporter) from where it runs.
  symlinkSync(join(__dirname, '..', 'node_modules'), join(dir, 'node_modules'));
  // Outside this runner's own child protocol (NODE_TEST_CONTEXT), as scripts/test.sh runs it.
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', `--test-reporter=${REPORTER}`,
    '--test-reporter-destination=stdout', ...Object.keys(files)], { cwd: dir, encoding: 'utf8', env });
  return { code: run.status, out: run.stdout };
}

const PASSING = `import { test } from 'node:test';
process.stderr.write('date: invalid date\\n');
test('expected failure, printed on purpose', () => { console.log('# ERROR: AwsSolutions-IAM4 (expected)'); });
test('another', () => {});
`;
const FAILING = `import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
describe('a suite', () => {
  test('passes', () => { console.log('context line of the failing file'); });
  test('compares', () => assert.equal(1 + 1, 3));
});
`;
const NOT_LOADING = `import { nothing } from './absent.mjs';\nconsole.log(nothing);\n`;

test('a passing run prints a line per file and a summary, and none of the files\' own output', () => {
  const run = runReporter({ 'a.test.mjs': PASSING, 'b.test.mjs': PASSING });
  assert.equal(run.code, 0, run.out);
  assert.match(run.out, /^ok +\d+\.\d s {2}a\.test\.mjs \(2 tests\)$/m);
  assert.match(run.out, /^ok +\d+\.\d s {2}b\.test\.mjs \(2 tests\)$/m);
  assert.match(run.out, /^4 tests in 2 files: 4 passed, 0 failed \(\d+\.\d s\)$/m);
  assert.match(run.out, /^slowest files: /m);
  assert.doesNotMatch(run.out, /invalid date|AwsSolutions/);
  assert.ok(run.out.split('\n').length <= 6, run.out);
});

test('a failure is printed in full, with the failing file\'s output, and fails the run', () => {
  const run = runReporter({ 'a.test.mjs': PASSING, 'f.test.mjs': FAILING });
  assert.equal(run.code, 1, run.out);
  assert.match(run.out, /^FAIL .* f\.test\.mjs \(2 tests\)$/m);
  assert.match(run.out, /not ok a suite › compares\n {4}at f\.test\.mjs:5:3\n {4}AssertionError/);
  assert.match(run.out, /2 !== 3/);
  assert.match(run.out, /output of f\.test\.mjs:\n {4}context line of the failing file/);
  // The passing file's output stays out, and the suite is not reported as a second failure.
  assert.doesNotMatch(run.out, /invalid date/);
  assert.equal(run.out.match(/not ok/g)?.length, 1, run.out);
  assert.match(run.out, /^4 tests in 2 files: 3 passed, 1 failed/m);
  assert.match(run.out, /^failed in: f\.test\.mjs$/m);
});

test('a file that fails before any test runs says so, with its error', () => {
  const run = runReporter({ 'a.test.mjs': PASSING, 'n.test.mjs': NOT_LOADING });
  assert.equal(run.code, 1, run.out);
  assert.match(run.out, /not ok \(the file itself\)/);
  assert.match(run.out, /Cannot find module .*absent\.mjs/);
  assert.match(run.out, /, 1 file that ran no test/);
});
