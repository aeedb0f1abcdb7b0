/** `npm run results [-- <dir>]`: downloads a benchmark run from the artifacts bucket and prints its report. */
import { processInputs, runAsScript } from '../lib/cli/process';
import { runResultsCommand } from '../lib/ops/results';

runAsScript(runResultsCommand, processInputs());
