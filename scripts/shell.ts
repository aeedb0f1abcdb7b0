/** `npm run shell [-- <node>]`: a Session Manager shell on a node (default: the Ray head). */
import { processInputs, runAsScript } from '../lib/cli/process';
import { runShellCommand } from '../lib/ops/session';

runAsScript(runShellCommand, processInputs());
