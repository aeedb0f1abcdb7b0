import { loadClusterConfig } from '../cli/settings';
import { ConfigError } from '../config/errors';
import { ClientOptions, createAwsClients, destroyAwsClients, liveAccount } from './aws-account';
import { parseContextArguments } from './cli-arguments';
import { accessFailure, exitCodeFor, formatPreflightReport, runPreflight } from './runner';

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
  /** Where the SDK looks for credentials (AWS_PROFILE, AWS_CONFIG_FILE, HOME): to name a profile that is missing. */
  readonly env?: NodeJS.ProcessEnv;
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
    const results = await runPreflight({
      config, account: liveAccount(clients, config.region), now: inputs.now,
      profileLookup: inputs.env ? { env: inputs.env, readFile: inputs.readFile } : undefined,
    });
    for (const line of formatPreflightReport(config, results).split('\n')) inputs.out(line);
    // Like every other command, a run that could not reach AWS at all ends with its one `error:` line.
    const access = accessFailure(results);
    if (access !== undefined) inputs.err(`error: ${access}`);
    return exitCodeFor(results);
  } finally {
    destroyAwsClients(clients);
  }
}
