/**
 * `npm run report -- <results-dir> [--json] [--baseline NAME] [--no-chart]`: compares benchmark results of the serve
 * configurations. Exit code 2 when some result files were skipped, 1 when nothing could be read (or bad arguments).
 */
import { existsSync, statSync } from 'fs';
import { CommandSpec, parseCommandLine } from '../lib/cli/command-line';
import { runReport } from '../lib/report';

export const REPORT_COMMAND: CommandSpec = {
  invocation: 'npm run report --',
  summary: 'Compares the benchmark results (vllm bench serve --save-result files) of the serve configurations: ' +
    'the table of anyscale/ray-serve-llm-perf-examples pd+kv_offloading per workload, and report.svg.',
  positionals: [{ name: 'results-dir', help: 'a folder holding <served>_itl<IN>_otl<OUT>_<mode>_<experiment>/conc<N>.json', required: true }],
  options: {
    json: { type: 'boolean', help: 'print the tables as JSON' },
    baseline: { type: 'string', value: 'NAME', help: 'the experiment the change column compares against' },
    'no-chart': { type: 'boolean', help: 'do not write report.svg' },
  },
  exitCodes: [
    [0, 'every result file was read'],
    [1, 'nothing could be read, or bad arguments'],
    [2, 'some result files were skipped (named on stderr); the rest is printed'],
  ],
};

function main(argv: readonly string[]): number {
  const outcome = parseCommandLine(REPORT_COMMAND, argv);
  if (outcome.kind === 'help') { console.log(outcome.text); return 0; }
  if (outcome.kind === 'error') { console.error(`error: ${outcome.message}`); return 1; }
  const { values, positionals } = outcome.parsed;
  const dir = positionals[0];
  if (!existsSync(dir) || !statSync(dir).isDirectory()) { console.error(`error: ${dir} is not a folder (see npm run report -- --help)`); return 1; }
  const baseline = typeof values.baseline === 'string' ? values.baseline : undefined;
  const outcomeOfReport = runReport(dir, { json: values.json === true, chart: values['no-chart'] !== true, baseline });
  if (outcomeOfReport.stdout) console.log(outcomeOfReport.stdout);
  if (outcomeOfReport.stderr) console.error(outcomeOfReport.stderr);
  return outcomeOfReport.exitCode;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
