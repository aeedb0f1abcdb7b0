/**
 * `npm run preflight -- -c key=value ...`: checks the configuration against the live AWS account before a deploy.
 * Like bin/app.ts this is the only place that touches files and the process; the logic is in lib/preflight.
 */
import { formatHelp, parseCommandLine } from '../lib/cli/command-line';
import { processInputs, runAsScript } from '../lib/cli/process';
import { runPreflightCommand } from '../lib/preflight';
import { PREFLIGHT_COMMAND } from '../lib/preflight/cli-arguments';

runAsScript(async (inputs) => {
  // Help is answered here; every other argument (and its errors) goes through the same parser inside the command.
  if (parseCommandLine(PREFLIGHT_COMMAND, inputs.argv).kind === 'help') {
    for (const line of formatHelp(PREFLIGHT_COMMAND).split('\n')) inputs.out(line);
    return 0;
  }
  const { argv, contextFiles, readFile, out, err, env } = inputs;
  return runPreflightCommand({ argv, contextFiles, readFile, out, err, env });
}, processInputs());
