import { mkdtempSync, readFileSync } from 'node:fs';
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

/**
 * Synthesizes the whole app (cdk-nag included) into a fresh temp folder, as `cdk synth` does, with aws-cdk-lib's
 * built-in CloudFormation validation on (a template error fails the synth), unless `cfnValidation` is false.
 */
export async function synth(context: Record<string, unknown> = {}, files: Record<string, string> = {},
  options: { cfnValidation?: boolean } = {}): Promise<Synthesized> {
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

/** The resources of one type, by logical id. */
export function resourcesOf(s: Synthesized, type: string): Array<[string, any]> {
  return Object.entries(s.json.Resources).filter(([, r]) => r.Type === type).map(([id, r]) => [id, r]);
}

/** A launch template's data, found from the instance that uses it. */
export function launchTemplateOf(s: Synthesized, instance: any): any {
  const ref = instance.Properties.LaunchTemplate.LaunchTemplateId.Ref;
  return s.json.Resources[ref].Properties.LaunchTemplateData;
}
