/**
 * CloudWatch events as the REAL rendered bootstrap sends them: the node harness (test/bootstrap/node-harness.ts)
 * runs the user data against stub commands and records every `aws logs put-log-events` call; this turns those
 * calls back into the (stream, events) CloudWatch would hold.
 */
import { NodeBootstrapContext } from '../../lib/bootstrap';
import { NodeRun, context, runNode } from '../bootstrap/node-harness';

export const HEAD_JSON = '{"ip":"10.0.0.10","port":6379,"instanceId":"i-0head","dashboardPort":8265}';

export interface SentLogs {
  readonly run: NodeRun;
  readonly group: string;
  readonly stream: string;
  readonly events: Array<{ timestamp: number; message: string }>;
}

export function sentLogEvents(run: NodeRun): SentLogs {
  const calls = run.calls.filter((c) => c.startsWith('aws logs put-log-events '));
  if (calls.length === 0) throw new Error(`the bootstrap sent no log events:\n${run.stdout}`);
  let group = '';
  let stream = '';
  const events: Array<{ timestamp: number; message: string }> = [];
  for (const call of calls) {
    // The CLI options after the events (timeouts) are the bootstrap's business, not the log's.
    const m = /--log-group-name (\S+) --log-stream-name (\S+) --log-events (\[.*\])(?: --[a-z-]+ \S+)*$/s.exec(call);
    if (!m) throw new Error(`unexpected put-log-events call: ${call}`);
    [, group, stream] = m;
    events.push(...(JSON.parse(m[3]) as Array<{ timestamp: number; message: string }>));
  }
  return { run, group, stream, events };
}

export async function bootstrapLogs(over: Partial<NodeBootstrapContext> = {}, env: Record<string, string> = {}): Promise<SentLogs> {
  return sentLogEvents(await runNode(context(over), { STUB_HEAD_JSON: HEAD_JSON, ...env }));
}
