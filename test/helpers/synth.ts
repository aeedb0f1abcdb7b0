import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SynthesisResult, synthesizeCluster } from '../../lib/app';

export interface Synthesized extends SynthesisResult {
  readonly template: Template;
  readonly json: { Resources: Record<string, { Type: string; Properties?: any; DependsOn?: string[]; DeletionPolicy?: string; UpdateReplacePolicy?: string }>; Outputs?: Record<string, any> };
  readonly log: string[];
}

/** A synth's products without its construct tree: all a test of the template and of the files beside it reads. */
export type SynthesizedFiles = Omit<Synthesized, 'stack'>;

export interface SynthOptions {
  /** aws-cdk-lib's built-in CloudFormation validation (a template error fails the synth). @default true */
  readonly cfnValidation?: boolean;
}

/**
 * Synthesizes the whole app (cdk-nag included) into a fresh temp folder, as `cdk synth` does, with aws-cdk-lib's
 * built-in CloudFormation validation on (a template error fails the synth), unless `cfnValidation` is false.
 */
export async function synth(context: Record<string, unknown> = {}, files: Record<string, string> = {},
  options: SynthOptions = {}): Promise<Synthesized> {
  const outdir = mkdtempSync(join(tmpdir(), 'p5-synth-'));
  const app = new App({ outdir, context, builtinCloudFormationValidation: options.cfnValidation ?? true });
  const log: string[] = [];
  const result = await synthesizeCluster(app, {
    context: app.node.getAllContext(),
    readFile: (path) => (path in files ? files[path] : readFileSync(path, 'utf8')),
    log: (line) => log.push(line),
    // A fresh cache: every test synth runs cdk-nag in full, whatever earlier runs left behind.
    nagCacheDir: mkdtempSync(join(tmpdir(), 'p5-nag-')),
  });
  const json = JSON.parse(readFileSync(join(result.outdir, `${result.stack.stackName}.template.json`), 'utf8'));
  return { ...result, template: Template.fromJSON(json), json, log };
}

/**
 * What `synth` gives, less the construct tree, synthesized once per test run for each input: the test files of one
 * `node --test` run share it (several synthesize the default stack, and a validated synth costs seconds of CPU, most
 * of it starting aws-cdk-lib's CloudFormation validation engine). A synth that fails is not shared: each caller
 * fails on its own. The outdir is the first synth's: read it, never write to it.
 */
export async function synthFiles(context: Record<string, unknown> = {}, files: Record<string, string> = {},
  options: SynthOptions = {}): Promise<SynthesizedFiles> {
  const key = synthKey(context, files, options);
  let pending = memo.get(key);
  if (pending === undefined) {
    pending = sharedSynth(key, async () => {
      const { config, outdir, json, log, template } = await synth(context, files, options);
      return { config, outdir, json, log, template };
    });
    memo.set(key, pending);
    // A failed synth is tried again by the next caller, as `synth` would be.
    void pending.catch(() => memo.delete(key));
  }
  // A copy for each caller: one test file's edits never reach another's.
  const { config, outdir, json, log } = structuredClone(await pending);
  return { config, outdir, json, log, template: Template.fromJSON(json) };
}

const memo = new Map<string, Promise<Omit<SynthesizedFiles, 'template'>>>();
const REPO = join(__dirname, '..', '..');

/**
 * Everything a synth's result depends on: the inputs, the code that synthesizes (lib/, this helper, the dependency
 * versions, Node's) and the environment aws-cdk-lib reads (CDK_*). A config file named by the context is read here
 * too, since the app reads it.
 */
function synthKey(context: Record<string, unknown>, files: Record<string, string>, options: SynthOptions): string {
  const hash = createHash('sha256');
  const configFile = typeof context.config === 'string' ? context.config : undefined;
  const configText = configFile === undefined ? undefined
    : configFile in files ? files[configFile] : existsSync(configFile) ? readFileSync(configFile, 'utf8') : null;
  hash.update(JSON.stringify({ context, files, cfnValidation: options.cfnValidation ?? true, configText, node: process.version }));
  hash.update(JSON.stringify(Object.entries(process.env).filter(([k]) => /^(CDK|JSII)_/.test(k)).sort()));
  hashTree(hash, join(REPO, 'lib'));
  for (const file of [__filename, join(REPO, 'package-lock.json')]) hash.update(file).update(readFileSync(file));
  return hash.digest('hex');
}

function hashTree(hash: ReturnType<typeof createHash>, dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== '__pycache__') hashTree(hash, path);
    } else if (entry.isFile()) {
      hash.update(path).update(readFileSync(path));
    }
  }
}

/**
 * The folder the test files of this run share: P5_TEST_RUN_DIR when set, else the `node --test` runner's own (the
 * parent of a test file's process, which the runner marks with NODE_TEST_CONTEXT), named by its pid and start time
 * so that a later run never reads it. Undefined outside the runner, or where /proc is missing: each process then
 * synthesizes for itself.
 */
function runDir(): string | undefined {
  if (process.env.P5_TEST_RUN_DIR) return process.env.P5_TEST_RUN_DIR;
  if (!process.env.NODE_TEST_CONTEXT) return undefined;
  const started = startTime(process.ppid);
  if (started === undefined) return undefined;
  const dir = join(tmpdir(), `${RUN_DIR_PREFIX}${process.ppid}-${started}`);
  if (!existsSync(dir)) removeEndedRuns();
  return dir;
}

const RUN_DIR_PREFIX = 'p5-test-run-';

/** A process's start time (field 22 of /proc/<pid>/stat, after the parenthesized command name), if it runs. */
function startTime(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[19];
  } catch {
    return undefined;
  }
}

/** The folders of runs whose runner has ended, with the outdirs their synths wrote. */
function removeEndedRuns(): void {
  for (const name of readdirSync(tmpdir())) {
    const [, pid, started] = new RegExp(`^${RUN_DIR_PREFIX}(\\d+)-(\\d+)$`).exec(name) ?? [];
    if (pid === undefined || startTime(Number(pid)) === started) continue;
    const dir = join(tmpdir(), name);
    for (const file of readdirSync(dir).filter((f) => /^synth-[0-9a-f]+\.json$/.test(f))) {
      const { outdir } = JSON.parse(readOrEmpty(join(dir, file)) || '{}') as { outdir?: string };
      if (outdir?.startsWith(join(tmpdir(), 'p5-synth-'))) rmSync(outdir, { recursive: true, force: true });
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `compute`'s result from the run's folder, or computed and written there. One process computes each key: the
 * others wait for its result (a lock folder), or compute it themselves if it fails or its process died.
 */
async function sharedSynth(key: string, compute: () => Promise<SynthesizedFiles>): Promise<Omit<SynthesizedFiles, 'template'>> {
  const dir = runDir();
  if (dir === undefined) return compute();
  const result = join(dir, `synth-${key}.json`);
  const lock = join(dir, `synth-${key}.lock`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (;;) {
    if (existsSync(result)) return JSON.parse(readFileSync(result, 'utf8')) as Omit<SynthesizedFiles, 'template'>;
    try {
      mkdirSync(lock);
    } catch {
      // Another process synthesizes this input: wait for its result, unless it died (or never said who it is).
      const owner = Number(readOrEmpty(join(lock, 'pid')));
      if ((owner > 0 && !alive(owner)) || (owner === 0 && Date.now() - mtimeOf(lock) > 10_000)) rmSync(lock, { recursive: true, force: true });
      else await new Promise((resolve) => setTimeout(resolve, 100));
      continue;
    }
    writeFileSync(join(lock, 'pid'), String(process.pid));
    try {
      const { config, outdir, json, log } = await compute();
      const value = { config, outdir, json, log };
      const partial = `${result}.${process.pid}.tmp`;
      writeFileSync(partial, JSON.stringify(value));
      renameSync(partial, result);
      return value;
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function mtimeOf(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return Date.now();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The resources of one type, by logical id. */
export function resourcesOf(s: Pick<Synthesized, 'json'>, type: string): Array<[string, any]> {
  return Object.entries(s.json.Resources).filter(([, r]) => r.Type === type).map(([id, r]) => [id, r]);
}

/** A launch template's data, found from the instance that uses it. */
export function launchTemplateOf(s: Pick<Synthesized, 'json'>, instance: any): any {
  const ref = instance.Properties.LaunchTemplate.LaunchTemplateId.Ref;
  return s.json.Resources[ref].Properties.LaunchTemplateData;
}
