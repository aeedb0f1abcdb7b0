import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SynthesisResult, synthesizeCluster } from '../../lib/app';
import { codeFingerprint, shareInRun } from './run-share';

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
    pending = shareInRun(key, async () => {
      const { config, outdir, json, log } = await synth(context, files, options);
      return { value: { config, outdir, json, log }, folders: [outdir] };
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

/**
 * Everything a synth's result depends on: the inputs, the code that synthesizes (lib/, this helper, the dependency
 * versions, Node's) and the environment aws-cdk-lib reads (CDK_*). A config file named by the context is read here
 * too, since the app reads it.
 */
function synthKey(context: Record<string, unknown>, files: Record<string, string>, options: SynthOptions): string {
  const configFile = typeof context.config === 'string' ? context.config : undefined;
  const configText = configFile === undefined ? undefined
    : configFile in files ? files[configFile] : existsSync(configFile) ? readFileSync(configFile, 'utf8') : null;
  return `synth-${createHash('sha256')
    .update(JSON.stringify({ context, files, cfnValidation: options.cfnValidation ?? true, configText }))
    .update(JSON.stringify(Object.entries(process.env).filter(([k]) => /^(CDK|JSII)_/.test(k)).sort()))
    .update(codeFingerprint(['lib', 'test/helpers/synth.ts']))
    .digest('hex')}`;
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
