import { join } from 'node:path';

/**
 * Which named profile the SDK was asked for, and whether its shared files define it: the SDK's own error for a
 * missing profile ("Could not load credentials from any providers") does not name it.
 *
 * The files and section names are read as the SDK reads them (@smithy/core 3.41 `shared-ini-file-loader`:
 * getConfigFilepath, getCredentialsFilepath, getHomeDir, parseIni, getConfigData): AWS_CONFIG_FILE or
 * ~/.aws/config with `[profile NAME]` and `[default]` sections, AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials
 * with `[NAME]` sections.
 */
export interface ProfileLookup {
  readonly env: NodeJS.ProcessEnv;
  /** Throws when the file is absent. */
  readonly readFile: (path: string) => string;
}

export interface ProfileState {
  readonly name: string;
  readonly defined: boolean;
  readonly files: readonly string[];
  /** Every profile the files define, sorted. */
  readonly known: readonly string[];
}

/** The profile AWS_PROFILE names, and whether it exists; undefined when AWS_PROFILE is unset (the default chain). */
export function namedProfile(lookup: ProfileLookup): ProfileState | undefined {
  const name = lookup.env.AWS_PROFILE;
  if (name === undefined || name === '') return undefined;
  const home = lookup.env.HOME || lookup.env.USERPROFILE || '';
  const configFile = lookup.env.AWS_CONFIG_FILE || join(home, '.aws', 'config');
  const credentialsFile = lookup.env.AWS_SHARED_CREDENTIALS_FILE || join(home, '.aws', 'credentials');
  const known = new Set([...sections(read(lookup, configFile), true), ...sections(read(lookup, credentialsFile), false)]);
  return { name, defined: known.has(name), files: [configFile, credentialsFile], known: [...known].sort() };
}

function read(lookup: ProfileLookup, path: string): string {
  try {
    return lookup.readFile(path);
  } catch {
    return '';
  }
}

/** Profile names of an INI file: in the config file only `[profile NAME]` (quotes allowed) and `[default]`. */
function sections(text: string, isConfig: boolean): string[] {
  const names: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.split(/(^|\s)[;#]/)[0].trim();
    if (!line.startsWith('[') || !line.endsWith(']')) continue;
    const section = line.slice(1, -1).trim();
    if (!isConfig) {
      names.push(section);
      continue;
    }
    const prefixed = /^profile\s+(["']?)([\w\-@+.%:/]+)\1$/.exec(section);
    if (prefixed) names.push(prefixed[2]);
    else if (section === 'default') names.push('default');
  }
  return names;
}

/**
 * The start of the one line for "no credentials": naming AWS_PROFILE's profile when it is set, with what to do
 * about it; undefined when AWS_PROFILE is unset (the caller says what to set).
 */
export function profileProblem(lookup: ProfileLookup): string | undefined {
  const profile = namedProfile(lookup);
  if (!profile) return undefined;
  if (!profile.defined) {
    return `AWS_PROFILE=${profile.name} names a profile that is not in ${profile.files.join(' or ')} ` +
      `(${profile.known.length > 0 ? `profiles there: ${profile.known.join(', ')}` : 'no profiles there'}): set AWS_PROFILE to ` +
      `one of them, or create it with \`aws configure --profile ${profile.name}\``;
  }
  return `profile ${profile.name} (AWS_PROFILE) gave no credentials: run \`aws sso login --profile ${profile.name}\` if it ` +
    `uses IAM Identity Center, or \`aws configure --profile ${profile.name}\``;
}
