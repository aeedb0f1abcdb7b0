/** The node's deadline arithmetic (lib.sh, deadline_from_launch), with bash's and date's own arithmetic. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { BOOTSTRAP_DEADLINE_MARGIN_SECONDS, BOOTSTRAP_SCRIPTS_DIR } from '../../lib/bootstrap';

function deadline(launch: string, timeout: number, margin: number): number {
  const out = execFileSync('bash', ['-c', `NODE_ROOT=/x; . "${join(BOOTSTRAP_SCRIPTS_DIR, 'lib.sh')}"; deadline_from_launch "$@"`,
    '_', launch, String(timeout), String(margin)], { encoding: 'utf8' });
  return Number(out.trim());
}

test('deadline = launch time + wait condition timeout − margin (the margin comes after the deadline)', () => {
  const launch = Date.parse('2026-11-29T10:00:00Z') / 1000;
  assert.equal(deadline('2026-11-29T10:00:00Z', 5400, 300), launch + 5400 - 300);
  assert.equal(deadline('2026-11-29T10:00:00Z', 5400, 0), launch + 5400);
  assert.equal(deadline('2026-11-29T10:00:00Z', 1200, BOOTSTRAP_DEADLINE_MARGIN_SECONDS), launch + 1200 - BOOTSTRAP_DEADLINE_MARGIN_SECONDS);
});

test('a launch time that is not a date is an error, not a deadline of 0', () => {
  assert.throws(() => deadline('not-a-date', 5400, 300));
});
