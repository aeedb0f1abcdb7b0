/** `npm run status [-- --watch]`: the stack, each node's bootstrap step, readiness gate, spend guard, cost so far. */
import { processInputs, runAsScript } from '../lib/cli/process';
import { runStatusCommand } from '../lib/ops/status';

runAsScript(runStatusCommand, processInputs());
