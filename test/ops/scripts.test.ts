import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
      // That line alone: no stack trace, and no AWS SDK NodeVersionSupportWarning block (the SDK prints one on Node < 22).
      assert.equal(run.stderr, `${NO_CREDENTIALS}\n`, what);
    }
    const preflight = runs.at(-1)!;
    assert.equal(preflight.code, 1, preflight.stderr);
    assert.match(preflight.stdout, /^FAIL +AWS access .*no AWS credentials found/m);
    // It ends like the other commands: one error line (besides its report's FAIL row).
    assert.deepEqual(preflight.errorLines, ['error: no AWS credentials found: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and ' +
      'AWS_SECRET_ACCESS_KEY), or run `aws configure` / `aws sso login`; preflight needs read-only EC2 access (ec2:Describe*) and servicequotas:Get*']);
    assert.deepEqual(fake.calls, [], 'no request leaves without credentials');
  });

  it('names the profile AWS_PROFILE asks for when the shared files lack it, or when it gives no credentials', async () => {
    const home = mkdtempSync(join(tmpdir(), 'p5-home-'));
    mkdirSync(join(home, '.aws'));
    // As `aws configure` writes them: profiles in the config file as [profile NAME], in the credentials file as [NAME].
    writeFileSync(join(home, '.aws', 'config'), '[default]\nregion = us-east-1\n\n[profile dev]\nregion = us-east-1\n');
    writeFileSync(join(home, '.aws', 'credentials'), '[ci]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = x\n');
    const env = (profile: string) => ({
      ...bareEnv({ AWS_ENDPOINT_URL: fake.url, AWS_PROFILE: profile }), HOME: home,
      AWS_CONFIG_FILE: join(home, '.aws', 'config'), AWS_SHARED_CREDENTIALS_FILE: join(home, '.aws', 'credentials'),
    });
    const [status, preflight, dev] = await Promise.all([runScript('status', [], env('nope')), runScript('preflight', [], env('nope')),
      runScript('status', [], env('dev'))]);
    const missing = `AWS_PROFILE=nope names a profile that is not in ${join(home, '.aws', 'config')} or ${join(home, '.aws', 'credentials')} ` +
      '(profiles there: ci, default, dev): set AWS_PROFILE to one of them, or create it with `aws configure --profile nope`';
    assert.equal(status.code, 1);
    assert.deepEqual(status.errorLines, [`error: ${missing}; then run \`npm run preflight\` to check the account before \`npx cdk deploy\``]);
    assert.equal(preflight.code, 1);
    assert.deepEqual(preflight.errorLines, [`error: ${missing}; preflight needs read-only EC2 access (ec2:Describe*) and servicequotas:Get*`]);
    assert.equal(dev.code, 1);
    assert.match(dev.errorLines.join('\n'), /^error: profile dev \(AWS_PROFILE\) gave no credentials: run `aws sso login --profile dev` if it uses IAM Identity Center, or `aws configure --profile dev`; then run `npm run preflight`/);
    assert.deepEqual(fake.calls, []);
  });
});

describe('one argument parser and one help shape for every command', () => {
  const specs: Array<[string, CommandSpec]> = [
    ['capacity -- find', CAPACITY_FIND], ['capacity -- buy', CAPACITY_BUY], ['status --', STATUS_COMMAND], ['logs --', LOGS_COMMAND],
    ['shell --', SHELL_COMMAND], ['forward --', FORWARD_COMMAND], ['results --', RESULTS_COMMAND], ['preflight --', PREFLIGHT_COMMAND],
    ['report --', REPORT_COMMAND],
  ];
  // The report reads no settings: no -c (it took one and ignored it).
  const readsSettings = (spec: CommandSpec) => spec.settings !== false;
  it('prints usage, summary, arguments, options (with -c and -h) and exit codes in the same layout', () => {
    for (const [name, spec] of specs) {
      const help = formatHelp(spec).split('\n');
      assert.match(help[0], new RegExp(`^usage: npm run ${name.replace(/[-]/g, '\\-')} .*\\[options\\]$`), name);
      assert.equal(help[1], '', name);
      const options = help.indexOf('options:');
      const exits = help.indexOf('exit codes:');
      assert.ok(options > 2 && exits > options, `${name}: options then exit codes`);
      assert.equal(help.some((l) => /^ {2}-c, --context key=value +a setting, as for `cdk synth` \(repeatable/.test(l)), readsSettings(spec), name);
      assert.ok(help.some((l) => /^ {2}-h, --help +show this help and exit$/.test(l)), name);
      // Every description starts in the same column.
      const column = (l: string) => l.search(/(?<=\S) {2,}\S/) + l.slice(l.search(/(?<=\S) {2,}\S/)).search(/\S/);
      assert.equal(new Set(help.slice(options + 1, exits - 1).map(column)).size, 1, `${name}: one column`);
      for (const line of help.slice(options + 1, exits - 1)) assert.match(line, /^ {2}-/, `${name}: option line ${line}`);
    }
  });

  it('answers a subcommand\'s --help and a missing option value from the scripts (every script\'s --help: test/npm-scripts.test.ts)', async () => {
    const env = bareEnv();
    const [capacity, bad] = await Promise.all([runScript('capacity', ['buy', '-h'], env), runScript('results', ['--run'], env)]);
    assert.equal(capacity.code, 0);
    assert.equal(capacity.stdout.split('\n')[0], 'usage: npm run capacity -- buy <offeringId> [options]');
    assert.equal(bad.code, 2);
    assert.deepEqual(bad.errorLines, ['error: --run needs a value (see npm run results -- --help)']);
  });
});
