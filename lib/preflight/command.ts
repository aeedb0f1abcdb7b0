import { loadClusterConfig } from '../cli/settings';
import { ConfigError } from '../config/errors';
import { ClientOptions, createAwsClients, destroyAwsClients, liveAccount } from './aws-account';
import { parseContextArguments } from './cli-arguments';
import { exitCodeFor, formatPreflightReport, runPreflight } from './runner';

export interface PreflightCommandInputs {
  readonly argv: readonly string[];
  /** The text of a context file (~/.cdk.json, cdk.json, cdk.context.json), or undefined when it is absent. */
  readonly contextFiles: { user?: string; project?: string; projectContext?: string };
  /** For `-c config=cluster.yaml`, exactly as the app reads it. */
  readonly readFile: (path: string) => string;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Tests point the clients at a local endpoint with fake credentials; the CLI uses the default chain. */
  readonly clientOptions?: Omit<ClientOptions, 'region'>;
  readonly now?: Date;
}

/** `npm run preflight`: settings → validated config → live checks → report. Returns the exit code. */
export async function runPreflightCommand(inputs: PreflightCommandInputs): Promise<number> {
  let config;
  try {
    config = loadClusterConfig({ contextFiles: inputs.contextFiles, commandLine: parseContextArguments(inputs.argv), readFile: inputs.readFile });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) inputs.err(`error: ${problem}`);
    return 2;
  }
  const clients = createAwsClients({ ...inputs.clientOptions, region: config.region });
  try {
    const results = await runPreflight({ config, account: liveAccount(clients, config.region), now: inputs.now });
    for (const line of formatPreflightReport(config, results).split('\n')) inputs.out(line);
    return exitCodeFor(results);
  } finally {
    destroyAwsClients(clients);
  }
}
