import { parse as parseYaml, YAMLParseError } from 'yaml';
import { RawConfig } from './cluster-config';
import { SETTING_KEYS } from './schema';
import { ConfigError, invalid } from './errors';

/** The context key naming an optional YAML configuration file. */
export const CONFIG_FILE_KEY = 'config';

/** Context keys that steer the app itself rather than the cluster. */
export const APP_FLAGS = {
  configFile: CONFIG_FILE_KEY,
  /** `-c livePrices=true`: refresh prices from the AWS Price List API (needs credentials; falls back to the table). */
  livePrices: 'livePrices',
  /**
   * `-c cfnValidation=true`: also run aws-cdk-lib's built-in CloudFormation schema validation. Off by default
   * because it adds ~3.4 s to every synth of this stack (measured here); the test suite runs it on every stack
   * shape it synthesizes.
   */
  cfnValidation: 'cfnValidation',
  /** `-c nagCache=false`: run cdk-nag in full even when its cached verdict for this exact template applies. */
  nagCache: 'nagCache',
} as const;

/**
 * A boolean app flag from context: `true`/`false` from cdk.json, or the strings `-c` gives; absent or anything
 * else is the flag's default.
 */
export function appFlag(context: Readonly<Record<string, unknown>>, flag: string, fallback = false): boolean {
  const value = context[flag];
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  return fallback;
}

/**
 * Merges the two sources of settings: the YAML file named by `-c config=path` (lowest precedence) and CDK context
 * (`-c key=value` or cdk.json). Context keys that look like ours but are not known are reported, so a typo such
 * as `-c gpuNode=3` fails instead of being ignored; CDK's own keys (`@aws-cdk/…`, `aws:cdk:…`) are skipped.
 */
export function collectRawConfig(
  context: Readonly<Record<string, unknown>>,
  readFile: (path: string) => string,
): RawConfig {
  const file = context[CONFIG_FILE_KEY];
  if (file !== undefined && typeof file !== 'string') {
    throw new ConfigError([invalid(CONFIG_FILE_KEY, file, 'must be the path of a YAML file of settings')]);
  }
  const fromFile = file === undefined ? {} : readConfigFile(file, readFile);
  const fromContext: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(context)) {
    if ((Object.values(APP_FLAGS) as string[]).includes(key) || !/^[a-zA-Z][a-zA-Z0-9]*$/.test(key)) continue;
    fromContext[key] = value;
  }
  return { ...fromFile, ...fromContext };
}

function readConfigFile(path: string, readFile: (path: string) => string): RawConfig {
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    throw new ConfigError([invalid(CONFIG_FILE_KEY, path, `cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`)]);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}` : '';
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new ConfigError([invalid(CONFIG_FILE_KEY, path, `not valid YAML${where}: ${why}`)]);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError([invalid(CONFIG_FILE_KEY, path, `must hold a YAML mapping of settings (${SETTING_KEYS.slice(0, 4).join(', ')}, …)`)]);
  }
  return doc as RawConfig;
}
