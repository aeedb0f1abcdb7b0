/** `npm run logs [-- <node>] [--follow]`: a node's, or every node's, bootstrap log from CloudWatch Logs. */
import { processInputs, runAsScript } from '../lib/cli/process';
import { runLogsCommand } from '../lib/ops/logs';

runAsScript(runLogsCommand, processInputs());
