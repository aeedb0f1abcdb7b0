/**
 * `npm run report -- <results-dir> [--json] [--baseline NAME] [--no-chart] [--profile NAME] [--region R]
 * [--ttft-budget-ms N] [--tpot-budget-ms N]`: compares benchmark results of the serve configurations. Exit code 2 when
 * some result files were skipped, 1 when nothing could be read.
 */
import { existsSync, statSync } from 'fs';
import { DEFAULT_BUDGET, isProfile, runReport } from '../lib/report';

const USAGE = 'usage: npm run report -- <results-dir> [--json] [--baseline NAME] [--no-chart] [--profile reference|full-cluster] ' +
  `[--region R] [--ttft-budget-ms N (default ${DEFAULT_BUDGET.meanTtftMs})] [--tpot-budget-ms N (default ${DEFAULT_BUDGET.meanTpotMs})]`;

function main(argv: readonly string[]): number {
  let dir: string | undefined;
  let json = false;
  let chart = true;
  let baseline: string | undefined;
  let profile: string | undefined;
  let region: string | undefined;
  const budget = { meanTtftMs: DEFAULT_BUDGET.meanTtftMs, meanTpotMs: DEFAULT_BUDGET.meanTpotMs };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--profile' && i + 1 < argv.length) profile = argv[++i];
    else if (arg === '--region' && i + 1 < argv.length) region = argv[++i];
    else if ((arg === '--ttft-budget-ms' || arg === '--tpot-budget-ms') && i + 1 < argv.length) {
      const value = Number(argv[++i]);
      if (!(value > 0)) { console.error(`${arg} ${argv[i]}: use a positive number of milliseconds\n${USAGE}`); return 1; }
      budget[arg === '--ttft-budget-ms' ? 'meanTtftMs' : 'meanTpotMs'] = value;
    } else if (arg === '--json') json = true;
    else if (arg === '--no-chart') chart = false;
    else if (arg === '--baseline' && i + 1 < argv.length) baseline = argv[++i];
    else if (arg === '-h' || arg === '--help') { console.log(USAGE); return 0; }
    else if (!arg.startsWith('-') && dir === undefined) dir = arg;
    else { console.error(`unknown argument ${arg}\n${USAGE}`); return 1; }
  }
  if (dir === undefined) { console.error(USAGE); return 1; }
  if (!existsSync(dir) || !statSync(dir).isDirectory()) { console.error(`${dir} is not a folder\n${USAGE}`); return 1; }
  if (profile !== undefined && !isProfile(profile)) { console.error(`--profile ${profile}: use reference or full-cluster\n${USAGE}`); return 1; }
  const outcome = runReport(dir, { json, chart, baseline, profile, region, budget });
  if (outcome.stdout) console.log(outcome.stdout);
  if (outcome.stderr) console.error(outcome.stderr);
  return outcome.exitCode;
}

process.exitCode = main(process.argv.slice(2));
