import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ClusterConfig, parseClusterConfig } from '../config/cluster-config';
import { ConfigError } from '../config/errors';
import { collectRawConfig } from '../config/sources';

/** The text of each CDK context file, or `undefined` when it does not exist. */
export interface ContextFiles {
  readonly user?: string;
  readonly project?: string;
  readonly projectContext?: string;
}

export interface SettingsSources {
  readonly contextFiles: ContextFiles;
  /** `-c key=value` from the command line. */
  readonly commandLine: Readonly<Record<string, string>>;
  /** For `-c config=cluster.yaml`, exactly as the app reads it. */
  readonly readFile: (path: string) => string;
}

/**
 * THE way every operations command (capacity, status, logs, shell, forward, results) reads the cluster settings:
 * the same sources and precedence as `cdk synth` (~/.cdk.json < cdk.json < cdk.context.json < the YAML named by
 * `-c config=` < `-c key=value`), validated by the same parser. Throws a ConfigError listing every problem.
 */
export function loadClusterConfig(sources: SettingsSources): ClusterConfig {
  const context = mergeCdkContext(sources.contextFiles, sources.commandLine);
  return parseClusterConfig(collectRawConfig(context, sources.readFile));
}

/**
 * CDK's precedence for context: ~/.cdk.json, then cdk.json, then cdk.context.json, then the command line. Each
 * file argument is that file's text, or `undefined` when it does not exist.
 */
export function mergeCdkContext(files: ContextFiles, commandLine: Readonly<Record<string, string>>): Record<string, unknown> {
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

/** The context files as the CDK CLI finds them: `~/.cdk.json`, and cdk.json / cdk.context.json in the project. */
export function readContextFiles(projectRoot: string, home = homedir()): ContextFiles {
  return {
    user: readIfPresent(join(home, '.cdk.json')),
    project: readIfPresent(join(projectRoot, 'cdk.json')),
    projectContext: readIfPresent(join(projectRoot, 'cdk.context.json')),
  };
}

function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
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
