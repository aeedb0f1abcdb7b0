/** `npm run forward [-- dashboard|serve]`: forwards a port of the Ray head to localhost through Session Manager. */
import { processInputs, runAsScript } from '../lib/cli/process';
import { runForwardCommand } from '../lib/ops/session';

runAsScript(runForwardCommand, processInputs());
