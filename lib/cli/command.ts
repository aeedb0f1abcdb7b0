import { ClusterConfig } from '../config/cluster-config';
import { ConfigError } from '../config/errors';
import { AwsAccess, AwsCallError, AwsClients, describeAwsFailure } from './aws';
import { CommandFailure, CommandSpec, EXIT_USAGE, ParsedCommandLine, UsageError, parseCommandLine } from './command-line';
import { ContextFiles, loadClusterConfig } from './settings';

/** What a command gets from its script (the process) or from a test. */
export interface CommandInputs {
  readonly argv: readonly string[];
  readonly contextFiles: ContextFiles;
  readonly readFile: (path: string) => string;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Tests: a local endpoint and fake keys. Users: undefined (the SDK's chain and AWS_ENDPOINT_URL). */
  readonly aws?: AwsAccess;
  readonly now?: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly env?: NodeJS.ProcessEnv;
}

export interface CommandContext {
  readonly args: ParsedCommandLine;
  readonly config: ClusterConfig;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
  readonly env: NodeJS.ProcessEnv;
  readonly readFile: (path: string) => string;
  /** SDK clients for a region (the config's unless a command lets the user pick another). */
  clients(region?: string): AwsClients;
}

export { CommandFailure } from './command-line';

/**
 * Every command's frame: arguments (help, usage errors), settings, then the body; any failure ends as one
 * `error:` line, never a stack trace. Exit codes: 2 for arguments and settings, 1 (or the failure's own) otherwise.
 */
export async function runCommand(spec: CommandSpec, inputs: CommandInputs,
  body: (context: CommandContext) => Promise<number>): Promise<number> {
  const outcome = parseCommandLine(spec, inputs.argv);
  if (outcome.kind === 'help') {
    for (const line of outcome.text.split('\n')) inputs.out(line);
    return 0;
  }
  if (outcome.kind === 'error') {
    inputs.err(`error: ${outcome.message}`);
    return EXIT_USAGE;
  }
  let config: ClusterConfig;
  try {
    config = loadClusterConfig({ contextFiles: inputs.contextFiles, commandLine: outcome.parsed.context, readFile: inputs.readFile });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) inputs.err(`error: ${problem}`);
    return 2;
  }

  const made: AwsClients[] = [];
  const context: CommandContext = {
    args: outcome.parsed,
    config,
    out: inputs.out,
    err: inputs.err,
    now: inputs.now ?? (() => new Date()),
    sleep: inputs.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    env: inputs.env ?? process.env,
    readFile: inputs.readFile,
    clients: (region = config.region) => {
      const existing = made.find((c) => c.region === region);
      if (existing) return existing;
      const clients = new AwsClients(region, { ...inputs.aws, env: inputs.aws?.env ?? inputs.env });
      made.push(clients);
      return clients;
    },
  };
  try {
    return await body(context);
  } catch (error) {
    if (error instanceof UsageError) {
      inputs.err(`error: ${error.message}`);
      return 2;
    }
    if (error instanceof ConfigError) {
      for (const problem of error.problems) inputs.err(`error: ${problem}`);
      return 2;
    }
    if (error instanceof AwsCallError) {
      inputs.err(`error: ${describeAwsFailure(error, { env: context.env, readFile: inputs.readFile })}`);
      return 1;
    }
    if (error instanceof CommandFailure) {
      inputs.err(`error: ${error.message}`);
      return error.exitCode;
    }
    throw error;
  } finally {
    for (const clients of made) clients.destroy();
  }
}
