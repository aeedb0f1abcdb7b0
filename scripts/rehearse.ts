/**
 * `npm run rehearse -- prepare|run [options]`: the whole pipeline on one GPU machine before renting p5 nodes
 * (lib/rehearsal). `prepare` writes the rehearsal folder; `run` prepares it here, runs its rehearse.sh here and prints
 * the report of the results.
 */
import { spawnSync } from 'child_process';
import { existsSync, readdirSync, statSync } from 'fs';
import { join, resolve } from 'path';
import { parseCommandLine } from '../lib/cli/command-line';
import { RehearsalSettingsError, rehearsalProblems } from '../lib/rehearsal';
import { REHEARSE_COMMAND, prepareFolder, provenance, settingsFrom } from '../lib/rehearsal/command';
import { runReport } from '../lib/report';

const REPO = resolve(__dirname, '..');

export async function main(argv: readonly string[], cwd = process.cwd()): Promise<number> {
  const outcome = parseCommandLine(REHEARSE_COMMAND, argv);
  if (outcome.kind === 'help') { console.log(outcome.text); return 0; }
  if (outcome.kind === 'error') { console.error(`error: ${outcome.message}`); return 1; }
  const { values, positionals } = outcome.parsed;
  const action = positionals[0];
  if (action !== 'prepare' && action !== 'run') {
    console.error(`error: ${action === undefined ? 'no action' : `unknown action ${action}`}: use prepare or run (see ${REHEARSE_COMMAND.invocation} --help)`);
    return 1;
  }
  if (Object.keys(outcome.parsed.context).length > 0) {
    console.error('error: -c: a rehearsal takes no cluster settings; use its own options (see --help)');
    return 1;
  }
  const settings = settingsFrom(values, cwd);
  const problems = 'problems' in settings ? settings.problems : rehearsalProblems(settings);
  if ('problems' in settings || problems.length > 0) {
    for (const p of problems) console.error(`error: ${p}`);
    return 1;
  }
  const out = typeof values.out === 'string' ? resolve(cwd, values.out) : settings.dir;
  if (action === 'run' && out !== settings.dir) {
    console.error(`error: --out ${out}: run prepares the folder where it runs (--dir ${settings.dir}); use prepare to write it elsewhere`);
    return 1;
  }
  try {
    const files = prepareFolder(out, settings, provenance(REPO, argv));
    console.log(`rehearsal prepared in ${out} (${files.length} files) for ${settings.dir} on ${settings.gpus} x ${settings.gpuName}`);
  } catch (error) {
    if (error instanceof RehearsalSettingsError) { for (const p of error.problems) console.error(`error: ${p}`); return 1; }
    throw error;
  }
  if (action === 'prepare') {
    console.log(`next, on the GPU machine: bash ${settings.dir}/rehearse.sh (its log: ${settings.dir}/logs/rehearsal.log)`);
    return 0;
  }
  const args: string[] = [];
  for (const key of ['only', 'workload'] as const) if (typeof values[key] === 'string') args.push(`--${key}`, values[key]);
  if (values['skip-install'] === true) args.push('--skip-install');
  const before = runFolders(join(settings.dir, 'results'));
  const driver = spawnSync('bash', [join(settings.dir, 'rehearse.sh'), ...args], { stdio: 'inherit' });
  const run = runFolders(join(settings.dir, 'results')).find((d) => !before.includes(d));
  if (run === undefined) {
    console.error(`error: the rehearsal made no results (exit ${driver.status ?? driver.signal}); its log: ${settings.dir}/logs/rehearsal.log`);
    return 1;
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

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  });
}
