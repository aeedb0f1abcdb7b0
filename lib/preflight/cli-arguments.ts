import { CommandSpec, parseCommandLine } from '../cli/command-line';
import { ConfigError } from '../config/errors';

/** `npm run preflight`: its arguments and help, in the shape every command shares (lib/cli/command-line.ts). */
export const PREFLIGHT_COMMAND: CommandSpec = {
  invocation: 'npm run preflight --',
  summary: 'Checks the configuration against the live AWS account before `cdk deploy`, with read-only calls: ' +
    'instance types, AZ offerings, the capacity reservation or Capacity Block, vCPU quotas.',
  options: {},
  exitCodes: [
    [0, 'nothing failed (warnings may be printed)'],
    [1, 'at least one check failed; no credentials or no network also end with one `error:` line'],
    [2, 'bad arguments or settings (one `error:` line per problem; AWS is not called)'],
  ],
};

/**
 * Reads `-c key=value` / `--context key=value` the way the CDK CLI does: values stay strings (the config parser
 * coerces them), and a later occurrence of a key overrides an earlier one.
 */
export function parseContextArguments(argv: readonly string[]): Record<string, string> {
  const outcome = parseCommandLine(PREFLIGHT_COMMAND, argv);
  if (outcome.kind === 'error') throw new ConfigError([outcome.message]);
  if (outcome.kind === 'help') return {};
  return { ...outcome.parsed.context };
}
