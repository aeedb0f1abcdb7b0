/**
 * Under `set -o pipefail` and an ERR trap, a pipeline whose reader may stop before the writer is done (head, grep
 * -q, …) fails the node whenever the writer gets SIGPIPE: a healthy node signals FAILURE now and then. No node
 * script may contain one; node-checks.test.ts also runs a node whose nvidia-smi writes more than a pipe holds.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BOOTSTRAP_ASSET_SCRIPTS, BOOTSTRAP_SCRIPTS, BOOTSTRAP_SCRIPTS_DIR, renderUserData } from '../../lib/bootstrap';
import { context } from './node-harness';

// A pipe into a reader that can exit early: head, tail (given a line count it may still read all, but which
// reader is which is not worth remembering), grep -q/-m/-l, sed with q, awk with exit.
const EARLY_READER = /\|\s*(head|tail)\b|\|\s*grep\s+(-\w*[qml]\w*|--quiet|--max-count|--files-with-matches)\b|\|\s*sed\b[^|]*\bq\b|\|\s*awk\b[^|]*\bexit\b/;

function offendingLines(name: string, text: string): string[] {
  return text.split('\n').map((line, i) => [i + 1, line] as const)
    .filter(([, line]) => !/^\s*#/.test(line) && EARLY_READER.test(line))
    .map(([n, line]) => `${name}:${n}: ${line.trim()}`);
}

test('no node script pipes into a reader that may stop early', () => {
  const offending = [
    ...[...BOOTSTRAP_SCRIPTS, ...BOOTSTRAP_ASSET_SCRIPTS].flatMap((name) => offendingLines(name, readFileSync(join(BOOTSTRAP_SCRIPTS_DIR, name), 'utf8'))),
    ...offendingLines('user data', renderUserData(context())),
  ];
  assert.deepEqual(offending, []);
});

test('the check recognises the patterns it forbids', () => {
  for (const line of ['GPU_NAME=$(printf "%s" "$out" | head -n 1)', 'x=$(cmd | tail -n1)', 'cmd | grep -q foo',
    'cmd | grep -qF foo', 'cmd | grep -m1 x', 'cmd | sed -n 1p\\;q', 'cmd | awk \'{ print; exit }\'']) {
    assert.equal(offendingLines('x', line).length, 1, line);
  }
  for (const line of ['n=$(find . | grep -c .)', 'x=$(sort -u <<<"$a" | grep -c .)', '# a comment | head']) {
    assert.equal(offendingLines('x', line).length, 0, line);
  }
});
