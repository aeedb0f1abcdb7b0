import { CommandInputs, CommandFailure, runCommand } from '../cli/command';
import { CommandSpec, secondsOption, wholeNumberOption } from '../cli/command-line';
import { LogEvent, displayLine, parseStreamName, summarizeBootstrap } from './bootstrap-log';
import { BootstrapLogReader, describeStack, expectedNodes, noStack } from './cluster';
import { duration } from './format';

export const LOGS_COMMAND: CommandSpec = {
  invocation: 'npm run logs --',
  summary: 'The bootstrap log of one node, or of every node interleaved by time, from CloudWatch Logs ' +
    '(log group /p5-ray/<stackName>/bootstrap, one stream per node).',
  positionals: [{ name: 'node', help: 'gpu-0, gpu-1, …, or head (default: every node)' }],
  options: {
    follow: { type: 'boolean', short: 'f', help: 'keep printing new lines until every node shown has signalled CloudFormation (or --timeout)' },
    lines: { type: 'string', short: 'n', value: 'N', help: 'print only the last N lines of what is there now (default: all)' },
    interval: { type: 'string', value: 'SECONDS', help: 'seconds between reads with --follow (default 5)' },
    timeout: { type: 'string', value: 'MINUTES', help: 'stop following after this long (default: bootstrapTimeoutMinutes + 30)' },
  },
  exitCodes: [
    [0, 'printed (with --follow: every node shown signalled SUCCESS)'],
    [1, 'no stack or no log, AWS refused, or (with --follow) a node signalled FAILURE'],
    [2, 'bad arguments or settings'],
    [3, '--follow stopped at its timeout'],
  ],
};

export function runLogsCommand(inputs: CommandInputs): Promise<number> {
  return runCommand(LOGS_COMMAND, inputs, async (c) => {
    const clients = c.clients();
    const wanted = c.args.positionals[0];
    const known = expectedNodes(c.config);
    if (wanted !== undefined && !known.includes(wanted)) {
      throw new CommandFailure(`no node ${wanted} in this configuration: the nodes are ${known.join(', ')}`, 2);
    }
    const stack = await describeStack(clients, c.config.stackName);
    if (!stack) throw noStack(c.config);
    const reader = new BootstrapLogReader(clients, c.config.stackName);
    const prefix = wanted === undefined ? undefined : `${wanted === 'head' ? 'head-0' : wanted}/`;
    const follow = c.args.values.follow === true;
    const tail = c.args.values.lines === undefined ? undefined : wholeNumberOption('lines', c.args.values.lines, 1, 1_000_000);
    const intervalMs = (c.args.values.interval === undefined ? 5 : secondsOption('interval', c.args.values.interval, 0.01, 3600)) * 1000;
    const timeoutMs = (c.args.values.timeout === undefined ? c.config.bootstrapTimeoutMinutes + 30
      : wholeNumberOption('timeout', c.args.values.timeout, 1, 24 * 60)) * 60_000;

    const print = (fresh: Map<string, LogEvent[]>, limit?: number) => {
      const merged = [...fresh].flatMap(([stream, events]) => events.map((e) => ({ node: parseStreamName(stream)?.node ?? stream, e })))
        .sort((a, b) => a.e.timestamp - b.e.timestamp);
      for (const { node, e } of limit === undefined ? merged : merged.slice(-limit)) c.out(displayLine(node, e));
    };
    print(await reader.poll(prefix), tail);
    if (!reader.groupExists) {
      throw new CommandFailure(`no bootstrap log group ${reader.group} in ${c.config.region}: the stack (${stack.status}) ` +
        'has not created it yet, or deleted it with a rollback or a destroy');
    }
    if (reader.logs.size === 0 && !follow) {
      c.out(`no bootstrap log yet in ${reader.group}${wanted ? ` for ${wanted}` : ''}: a node starts logging once its user data runs ` +
        '(a few minutes after launch); `npm run logs -- --follow` waits for it');
      return 0;
    }
    if (!follow) return 0;

    const started = c.now().getTime();
    const expected = wanted === undefined ? known : [wanted];
    for (;;) {
      // Done when every node shown has sent its one signal to CloudFormation: nothing more will be logged.
      const signals = expected.map((node) => reader.logOf(node)).map((log) => (log ? summarizeBootstrap(log.events).signal : undefined));
      if (signals.every((s) => s !== undefined)) {
        const failed = signals.some((s) => s?.status === 'FAILURE');
        c.err(failed ? 'a node signalled FAILURE: the deploy rolls back (`npm run status` shows why)' : 'every node signalled SUCCESS');
        return failed ? 1 : 0;
      }
      if (c.now().getTime() - started >= timeoutMs) {
        c.err(`stopped following after ${duration(timeoutMs / 1000)}; \`npm run logs -- --follow\` continues`);
        return 3;
      }
      await c.sleep(intervalMs);
      print(await reader.poll(prefix));
    }
  });
}
