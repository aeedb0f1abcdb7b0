import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { CAPACITY_BUY, CAPACITY_FIND } from '../../lib/capacity/command';
import { CommandSpec, formatHelp } from '../../lib/cli/command-line';
import { LOGS_COMMAND } from '../../lib/ops/logs';
import { RESULTS_COMMAND } from '../../lib/ops/results';
import { FORWARD_COMMAND, SHELL_COMMAND } from '../../lib/ops/session';
import { STATUS_COMMAND } from '../../lib/ops/status';
import { PREFLIGHT_COMMAND } from '../../lib/preflight/cli-arguments';
import { REPORT_COMMAND } from '../../scripts/report';
import { FakeEndpoint, defaultAccount, startFakeAws } from '../preflight/fake-aws-endpoint';
import { bareEnv, runScript } from './run-script';

const NO_CREDENTIALS = 'error: no AWS credentials found: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or run ' +
  '`aws configure` / `aws sso login`; then run `npm run preflight` to check the account before `npx cdk deploy`';

let fake: FakeEndpoint;
before(async () => { fake = await startFakeAws(defaultAccount()); });
after(() => fake.close());

describe('every command, run as npm runs it, with no AWS credentials', () => {
  const commands: Array<[string, string[]]> = [
    ['capacity', ['find', '--hours', '24']],
    ['capacity', ['buy', 'cb-0123456789abcdef0', '--hours', '24', '--yes']],
    ['status', []],
    ['status', ['--watch', '--interval', '0.05', '--timeout', '1']],
    ['logs', ['--follow']],
    ['shell', []],
    ['forward', ['serve']],
    ['results', []],
  ];
  it('fails with one line saying what to set and to run preflight first, no stack trace, and sends nothing', async () => {
    const env = bareEnv({ AWS_ENDPOINT_URL: fake.url });
    const runs = await Promise.all([...commands.map(([name, args]) => runScript(name, args, env)), runScript('preflight', [], env)]);
    for (const [i, [name, args]] of commands.entries()) {
      const run = runs[i];
      const what = `npm run ${name} -- ${args.join(' ')}`;
      assert.equal(run.code, 1, `${what}: ${run.stderr}`);
      assert.deepEqual(run.errorLines, [NO_CREDENTIALS], `${what}: ${run.stderr}`);
      assert.doesNotMatch(run.stderr, /^\s+at .*:\d+:\d+\)?$/m, `${what}: no stack trace`);
    }
    const preflight = runs.at(-1)!;
    assert.equal(preflight.code, 1, preflight.stderr);
    assert.match(preflight.stdout, /^FAIL +AWS access .*no AWS credentials found/m);
    assert.deepEqual(fake.calls, [], 'no request leaves without credentials');
  });
});

describe('one argument parser and one help shape for every command', () => {
  const specs: Array<[string, CommandSpec]> = [
    ['capacity -- find', CAPACITY_FIND], ['capacity -- buy', CAPACITY_BUY], ['status --', STATUS_COMMAND], ['logs --', LOGS_COMMAND],
    ['shell --', SHELL_COMMAND], ['forward --', FORWARD_COMMAND], ['results --', RESULTS_COMMAND], ['preflight --', PREFLIGHT_COMMAND],
    ['report --', REPORT_COMMAND],
  ];
  it('prints usage, summary, arguments, options (with -c and -h) and exit codes in the same layout', () => {
    for (const [name, spec] of specs) {
      const help = formatHelp(spec).split('\n');
      assert.match(help[0], new RegExp(`^usage: npm run ${name.replace(/[-]/g, '\\-')} .*\\[options\\]$`), name);
      assert.equal(help[1], '', name);
      const options = help.indexOf('options:');
      const exits = help.indexOf('exit codes:');
      assert.ok(options > 2 && exits > options, `${name}: options then exit codes`);
      assert.ok(help.some((l) => /^ {2}-c, --context key=value +a setting, as for `cdk synth` \(repeatable/.test(l)), name);
      assert.ok(help.some((l) => /^ {2}-h, --help +show this help and exit$/.test(l)), name);
      // Every description starts in the same column.
      const column = (l: string) => l.search(/(?<=\S) {2,}\S/) + l.slice(l.search(/(?<=\S) {2,}\S/)).search(/\S/);
      assert.equal(new Set(help.slice(options + 1, exits - 1).map(column)).size, 1, `${name}: one column`);
      for (const line of help.slice(options + 1, exits - 1)) assert.match(line, /^ {2}-/, `${name}: option line ${line}`);
    }
  });

  it('answers --help from the scripts with exit code 0 and errors with exit code 2 and one line', async () => {
    const env = bareEnv();
    const [status, capacity, report, bad] = await Promise.all([
      runScript('status', ['--help'], env), runScript('capacity', ['buy', '-h'], env), runScript('report', ['--help'], env),
      runScript('results', ['--run'], env),
    ]);
    assert.equal(status.code, 0);
    assert.equal(status.stdout.split('\n')[0], 'usage: npm run status -- [options]');
    assert.equal(capacity.code, 0);
    assert.equal(capacity.stdout.split('\n')[0], 'usage: npm run capacity -- buy <offeringId> [options]');
    assert.equal(report.code, 0);
    assert.equal(report.stdout.split('\n')[0], 'usage: npm run report -- <results-dir> [options]');
    assert.equal(bad.code, 2);
    assert.deepEqual(bad.errorLines, ['error: --run needs a value (see npm run results -- --help)']);
  });
});
