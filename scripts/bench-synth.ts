/**
 * `npm run bench:synth [-- RUNS]`: times `cdk synth` of the default stack against a bare CDK app (scripts/bench-synth.sh
 * does the timing); this entry point gives it the help and the argument errors every other command has.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CommandSpec, UsageError } from '../lib/cli/command-line';
import { runLocalScript } from '../lib/cli/process';

const BENCH_SYNTH_COMMAND: CommandSpec = {
  invocation: 'npm run bench:synth --',
  summary: 'Times `cdk synth` of the default stack against a bare CDK app with one empty stack, alternating the two ' +
    '(and a third series with cdk-nag run in full, -c nagCache=false, reported but not gated), and prints the medians ' +
    'and their ratio; the target is a ratio under 1.5. No AWS credentials are used.',
  positionals: [{ name: 'runs', help: 'synths in each series (default 5, at most 50)' }],
  options: {},
  settings: false,
  exitCodes: [
    [0, 'the ratio is under 1.5'],
    [1, 'a synth failed, or the ratio is 1.5 or more'],
    [2, 'bad arguments (one `error:` line; nothing run)'],
  ],
};

runLocalScript(BENCH_SYNTH_COMMAND, ({ positionals }) => {
  const runs = positionals[0] ?? '5';
  if (!/^\d+$/.test(runs) || Number(runs) < 1 || Number(runs) > 50) {
    throw new UsageError(`invalid argument <runs>=${runs}: must be a whole number from 1 to 50 (see npm run bench:synth -- --help)`);
  }
  const run = spawnSync('bash', [join(__dirname, 'bench-synth.sh'), runs], { stdio: 'inherit' });
  return run.status ?? 1;
});
