/**
 * `npm run rehearse -- prepare|run [options]`: the whole pipeline on one GPU machine before renting p5 nodes
 * (lib/rehearsal). `prepare` writes the rehearsal folder; `run` prepares it here, runs its rehearse.sh here and prints
 * the report of the results.
 */
import { spawnSync } from 'child_process';
import { existsSync, readdirSync, statSync } from 'fs';
import { join, resolve } from 'path';
import { CommandFailure, ParsedCommandLine, UsageError } from '../lib/cli/command-line';
import { runLocalScript } from '../lib/cli/process';
import { RehearsalSettingsError, rehearsalProblems } from '../lib/rehearsal';
import { REHEARSE_COMMAND, prepareFolder, provenance, settingsFrom } from '../lib/rehearsal/command';
import { runReport } from '../lib/report';

const REPO = resolve(__dirname, '..');

export async function rehearse({ values, positionals }: ParsedCommandLine, argv: readonly string[], cwd = process.cwd()): Promise<number> {
  const action = positionals[0];
  if (action !== 'prepare' && action !== 'run') {
    throw new UsageError(`${action === undefined ? 'no action' : `unknown action ${action}`}: use prepare or run (see ${REHEARSE_COMMAND.invocation} --help)`);
  }
  const settings = settingsFrom(values, cwd);
  const problems = 'problems' in settings ? settings.problems : rehearsalProblems(settings);
  if ('problems' in settings || problems.length > 0) throw new UsageError(problems.join('\nerror: '));
  const out = typeof values.out === 'string' ? resolve(cwd, values.out) : settings.dir;
  if (action === 'run' && out !== settings.dir) {
    throw new UsageError(`--out ${out}: run prepares the folder where it runs (--dir ${settings.dir}); use prepare to write it elsewhere`);
  }
  try {
    const files = prepareFolder(out, settings, provenance(REPO, argv));
    console.log(`rehearsal prepared in ${out} (${files.length} files) for ${settings.dir} on ${settings.gpus} x ${settings.gpuName}`);
  } catch (error) {
    if (error instanceof RehearsalSettingsError) throw new UsageError(error.problems.join('\nerror: '));
    throw error;
  }
  if (action === 'prepare') {
    console.log(`next, on the GPU machine: bash ${settings.dir}/rehearse.sh (its log: ${settings.dir}/logs/rehearsal.log)`);
    return 0;
  }
  const args: string[] = [];
  for (const key of ['only', 'workload', 'cache-policy', 'router'] as const) if (typeof values[key] === 'string') args.push(`--${key}`, values[key]);
  if (values['skip-install'] === true) args.push('--skip-install');
  const before = runFolders(join(settings.dir, 'results'));
  const driver = spawnSync('bash', [join(settings.dir, 'rehearse.sh'), ...args], { stdio: 'inherit' });
  const run = runFolders(join(settings.dir, 'results')).find((d) => !before.includes(d));
  if (run === undefined) {
    throw new CommandFailure(`the rehearsal made no results (exit ${driver.status ?? driver.signal}); its log: ${settings.dir}/logs/rehearsal.log`);
  }
  const report = await runReport(run, { json: false, chart: true });
  if (report.stdout) console.log(report.stdout);
  if (report.stderr) console.error(report.stderr);
  return driver.status === 0 ? report.exitCode : 1;
}

function runFolders(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).map((d) => join(dir, d)).filter((d) => statSync(d).isDirectory()).sort();
}

if (require.main === module) runLocalScript(REHEARSE_COMMAND, (parsed) => rehearse(parsed, process.argv.slice(2)));
