import { ConfigError } from '../config/errors';

/**
 * Reads `-c key=value` / `--context key=value` the way the CDK CLI does: values stay strings (the config parser
 * coerces them), and a later occurrence of a key overrides an earlier one.
 */
export function parseContextArguments(argv: readonly string[]): Record<string, string> {
  const context: Record<string, string> = {};
  const problems: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    let pair: string | undefined;
    if (arg === '-c' || arg === '--context') {
      pair = argv[++i];
      if (pair === undefined) {
        problems.push(`${arg} needs a key=value after it`);
        continue;
      }
    } else if (arg.startsWith('--context=')) {
      pair = arg.slice('--context='.length);
    } else {
      problems.push(`unknown argument ${arg}: preflight takes only -c key=value (the same settings as cdk synth)`);
      continue;
    }
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      problems.push(`context argument ${pair} must look like key=value`);
      continue;
    }
    context[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return context;
}

/**
 * CDK's precedence for context: ~/.cdk.json, then cdk.json, then cdk.context.json, then the command line. Each
 * file argument is that file's text, or `undefined` when it does not exist.
 */
export function mergeCdkContext(files: { user?: string; project?: string; projectContext?: string },
  commandLine: Record<string, string>): Record<string, unknown> {
  const fromSettings = (name: string, text: string | undefined): Record<string, unknown> => {
    if (text === undefined) return {};
    const doc = parseJson(name, text) as { context?: unknown };
    return isObject(doc.context) ? doc.context : {};
  };
  const fromContextFile = (name: string, text: string | undefined): Record<string, unknown> => {
    if (text === undefined) return {};
    const doc = parseJson(name, text);
    return isObject(doc) ? doc : {};
  };
  return {
    ...fromSettings('~/.cdk.json', files.user),
    ...fromSettings('cdk.json', files.project),
    ...fromContextFile('cdk.context.json', files.projectContext),
    ...commandLine,
  };
}

function parseJson(name: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError([`${name} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`]);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
