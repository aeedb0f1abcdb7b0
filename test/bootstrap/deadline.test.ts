/** The node's deadline arithmetic (lib.sh, deadline_from_launch), with bash's and date's own arithmetic. */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BOOTSTRAP_DEADLINE_MARGIN_SECONDS, BOOTSTRAP_SCRIPTS_DIR } from '../../lib/bootstrap';

function deadline(launch: string, timeout: number, margin: number): number {
  const out = execFileSync('bash', ['-c', `NODE_ROOT=/x; . "${join(BOOTSTRAP_SCRIPTS_DIR, 'lib.sh')}"; deadline_from_launch "$@"`,
    '_', launch, String(timeout), String(margin)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return Number(out.trim());
}

test('deadline = launch time + wait condition timeout − margin (the margin comes after the deadline)', () => {
  const launch = Date.parse('2026-11-29T10:00:00Z') / 1000;
  assert.equal(deadline('2026-11-29T10:00:00Z', 5400, 300), launch + 5400 - 300);
  assert.equal(deadline('2026-11-29T10:00:00Z', 5400, 0), launch + 5400);
  assert.equal(deadline('2026-11-29T10:00:00Z', 1200, BOOTSTRAP_DEADLINE_MARGIN_SECONDS), launch + 1200 - BOOTSTRAP_DEADLINE_MARGIN_SECONDS);
});

test('a launch time that is not a date is an error, not a deadline of 0', () => {
  // date's complaint goes into the error, not onto the test run's output.
  assert.throws(() => deadline('not-a-date', 5400, 300), /date: invalid date/);
});

/**
 * Runs lib.sh's need_internet on a clock that moves only when the script sleeps: `date` reads it, `sleep` advances
 * it (and bash's SECONDS, which the waits count with), and curl answers no route, as a subnet without its NAT route.
 * The signal curl would PUT is recorded with the clock's time. Nothing really sleeps.
 */
function needInternetOnFakeClock(secondsToDeadline: number, env: Record<string, string> = {}): { code: number; at: number; deadline: number; reason: string } {
  const root = mkdtempSync(join(tmpdir(), 'net-wait-'));
  const t0 = Date.parse('2026-12-04T10:00:00Z') / 1000;
  const script = `
    set -u
    . "${join(BOOTSTRAP_SCRIPTS_DIR, 'lib.sh')}"
    mkdir -p "$STATE_DIR"
    SECONDS=0
    date() {
      case "$*" in
        +%s) echo $((T0 + SECONDS)) ;;
        +%s%3N) echo $(((T0 + SECONDS) * 1000)) ;;
        *) command date -d "@$((T0 + SECONDS))" "$@" ;;
      esac
    }
    sleep() { SECONDS=$((SECONDS + $1)); }
    curl() {
      local body="" prev="" a
      for a in "$@"; do [ "$prev" != --data-binary ] || body=$a; prev=$a; done
      if [ -n "$body" ]; then printf '%s\\n%s\\n' "$((T0 + SECONDS))" "$body" >"$P5RAY_ROOT/signal"; return 0; fi
      echo "curl: (28) Connection timed out after 5001 milliseconds" >&2
      return 28
    }
    DEADLINE=$((T0 + ${secondsToDeadline}))
    need_internet PyPI https://pypi.org/simple/pip/
  `;
  const run = spawnSync('bash', ['-c', script], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH, T0: String(t0), P5RAY_ROOT: root, NODE_ROOT: '/node', ROLE: 'gpu', GPU_INDEX: '1',
      SIGNAL_URL: 'https://signal.test/handle', LOG_GROUP: '', BOOTSTRAP_LOG: '/var/log/p5-ray-bootstrap.log',
      BOOTSTRAP_TIMEOUT_SECONDS: '5400', P5RAY_WAIT_INTERVAL: '10', P5RAY_PROGRESS_EVERY: '60', ...env,
    },
  });
  const [at, body] = readFileSync(join(root, 'signal'), 'utf8').split('\n');
  return { code: run.status ?? -1, at: Number(at), deadline: t0 + secondsToDeadline, reason: JSON.parse(body).Reason };
}

test('a node whose deadline is nearer than NET_WAIT, with no route, fails with its own reason by the deadline', () => {
  // 45 s left, NET_WAIT at its default (900 s), probes every 10 s: the wait is bounded by the deadline, not NET_WAIT,
  // and its last sleep is cut short so that it never runs past it.
  const run = needInternetOnFakeClock(45);
  assert.equal(run.code, 1);
  assert.match(run.reason, /^step 0\/0 \(starting\): no route to PyPI \(https:\/\/pypi\.org\/simple\/pip\/\) within 45s: the NAT gateway or the subnet's route to it is not there \(curl: \(28\) Connection timed out/);
  assert.ok(run.at <= run.deadline, `signalled ${run.at - run.deadline}s after the deadline`);
  // With the deadline far away, NET_WAIT bounds it.
  const far = needInternetOnFakeClock(3600, { P5RAY_NET_WAIT: '120' });
  assert.match(far.reason, /within 120s/);
  assert.ok(far.at <= far.deadline - 3600 + 120, `signalled at +${far.at - (far.deadline - 3600)}s`);
});
