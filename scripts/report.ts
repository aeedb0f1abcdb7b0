/**
 * `npm run report -- <results-dir> [--json] [--baseline NAME] [--no-chart] [--profile NAME] [--region R]
 * [--ttft-budget-ms N] [--tpot-budget-ms N] [--strict]`: compares benchmark results of the serve configurations. Exit
 * code 2 for bad arguments or when some result files were skipped, 1 when nothing could be read, 3 with --strict when
 * a result's evidence is flagged.
 */
import { existsSync, statSync } from 'fs';
import { CommandSpec, UsageError } from '../lib/cli/command-line';
import { runLocalScript } from '../lib/cli/process';
import { DEFAULT_BUDGET, EXIT_FLAGGED, isProfile, runReport } from '../lib/report';
export const REPORT_COMMAND: CommandSpec = {
  invocation: 'npm run report --',
  summary: 'Compares the benchmark results (vllm bench serve --save-result files and their sidecars) of the serve ' +
    'configurations: per workload, the table of anyscale/ray-serve-llm-perf-examples pd+kv_offloading with GPUs, ' +
    'tokens per GPU and dollars per million output tokens, comparisons at equal GPU count and concurrency, a ' +
    'summary within a latency budget, and a chart (report.svg and report.png, drawn with Vega-Lite).',
  positionals: [{ name: 'results-dir', help: 'a folder holding <served>_itl<IN>_otl<OUT>_<mode>_<experiment>/conc<N>.json', required: true }],
  options: {
    json: { type: 'boolean', help: 'print the tables as JSON' },
    baseline: { type: 'string', value: 'NAME', help: 'the experiment the change column compares against' },
    'no-chart': { type: 'boolean', help: 'do not write report.svg and report.png' },
    profile: { type: 'string', value: 'NAME', help: 'reference or full-cluster: layouts for results whose sidecars carry none (e.g. the reference example\'s own files)' },
    region: { type: 'string', value: 'REGION', help: 'region those layouts are priced in (default: the settings\' default region)' },
    'ttft-budget-ms': { type: 'string', value: 'N', help: `mean TTFT budget of the summary (default ${DEFAULT_BUDGET.meanTtftMs})` },
    'tpot-budget-ms': { type: 'string', value: 'N', help: `mean TPOT budget of the summary (default ${DEFAULT_BUDGET.meanTpotMs})` },
    strict: { type: 'boolean', help: `exit ${EXIT_FLAGGED} when a result's evidence is missing or contradicts its configuration (the warnings are printed either way)` },
  },
  settings: false,
  exitCodes: [
    [0, 'every result file was read'],
    [1, 'nothing could be read'],
    [2, 'bad arguments (one `error:` line), or some result files were skipped (named on stderr; the rest is printed)'],
    [EXIT_FLAGGED, 'with --strict: every file was read, but some result is flagged (the warnings are in the report, once; stderr says how many results are flagged)'],
  ],
};

if (require.main === module) {
  runLocalScript(REPORT_COMMAND, async ({ values, positionals }) => {
    const text = (key: string) => (typeof values[key] === 'string' ? values[key] : undefined);
    const dir = positionals[0];
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${dir} is not a folder (see npm run report -- --help)`);
    const profile = text('profile');
    if (profile !== undefined && !isProfile(profile)) throw new UsageError(`--profile ${profile}: use reference or full-cluster`);
    const budget = { meanTtftMs: DEFAULT_BUDGET.meanTtftMs, meanTpotMs: DEFAULT_BUDGET.meanTpotMs };
    for (const [option, key] of [['ttft-budget-ms', 'meanTtftMs'], ['tpot-budget-ms', 'meanTpotMs']] as const) {
      const raw = text(option);
      if (raw === undefined) continue;
      const ms = Number(raw);
      if (!(ms > 0)) throw new UsageError(`--${option} ${raw}: use a positive number of milliseconds`);
      budget[key] = ms;
    }
    const report = await runReport(dir, {
      json: values.json === true, chart: values['no-chart'] !== true, baseline: text('baseline'), profile, region: text('region'), budget,
      strict: values.strict === true,
    });
    if (report.stdout) console.log(report.stdout);
    if (report.stderr) console.error(report.stderr);
    return report.exitCode;
  });
}
