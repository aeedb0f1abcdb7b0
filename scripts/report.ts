/**
 * `npm run report -- <results-dir> [--json] [--baseline NAME] [--no-chart]`: compares benchmark results of the serve
 * configurations. Exit code 2 when some result files were skipped, 1 when nothing could be read.
 */
import { existsSync, statSync } from 'fs';
import { runReport } from '../lib/report';

const USAGE = 'usage: npm run report -- <results-dir> [--json] [--baseline NAME] [--no-chart]';

function main(argv: readonly string[]): number {
  let dir: string | undefined;
  let json = false;
  let chart = true;
  let baseline: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json') json = true;
    else if (arg === '--no-chart') chart = false;
    else if (arg === '--baseline' && i + 1 < argv.length) baseline = argv[++i];
    else if (arg === '-h' || arg === '--help') { console.log(USAGE); return 0; }
    else if (!arg.startsWith('-') && dir === undefined) dir = arg;
    else { console.error(`unknown argument ${arg}\n${USAGE}`); return 1; }
  }
  if (dir === undefined) { console.error(USAGE); return 1; }
  if (!existsSync(dir) || !statSync(dir).isDirectory()) { console.error(`${dir} is not a folder\n${USAGE}`); return 1; }
  const outcome = runReport(dir, { json, chart, baseline });
  if (outcome.stdout) console.log(outcome.stdout);
  if (outcome.stderr) console.error(outcome.stderr);
  return outcome.exitCode;
}

process.exitCode = main(process.argv.slice(2));
