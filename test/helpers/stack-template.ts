import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { RawConfig, parseClusterConfig } from '../../lib/config/cluster-config';
import { P5RayClusterStack } from '../../lib/stack';
import type { TemplateJson } from './cfn-update';
import { capturingConsole } from './console-capture';

const CDK_JSON_CONTEXT = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
const cache = new Map<string, { template: TemplateJson; stackName: string; region: string; output: string }>();

/**
 * One assembly folder for every synth of this process. An App without an outdir stages every asset (the node
 * scripts, the serve bundle) into a temp folder of its own and deletes it at exit: copying and deleting those files
 * cost more than the synths themselves in a file that synthesizes forty configurations. Assets and serve bundles
 * are staged under content-hashed names, so configurations share the ones that are equal and never overwrite each
 * other's; each template is read right after its own synth.
 */
let outdir: string | undefined;
function sharedOutdir(): string {
  if (outdir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'p5-stack-template-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    outdir = dir;
  }
  return outdir;
}

/**
 * The cluster stack's template for some settings, as `cdk deploy` synthesizes it (cdk.json's feature flags), without
 * the app's cdk-nag and cost review: what the update tests compare. Each configuration is synthesized once. What
 * aws-cdk-lib prints while synthesizing (its annotation report: e.g. the imported subnets' missing route tables) is
 * kept in `output` rather than written among the test results.
 */
export function clusterStack(raw: RawConfig = {}): { template: TemplateJson; stackName: string; region: string; output: string } {
  const key = JSON.stringify(raw);
  const known = cache.get(key);
  if (known) return known;
  const config = parseClusterConfig(raw);
  const app = new App({ outdir: sharedOutdir(), builtinCloudFormationValidation: false, context: CDK_JSON_CONTEXT });
  const stack = new P5RayClusterStack(app, config.stackName, { config });
  const { result: template, output } = capturingConsole(() => app.synth().getStackByName(stack.stackName).template as TemplateJson);
  const out = { template, stackName: stack.stackName, region: stack.region, output };
  cache.set(key, out);
  return out;
}

export function clusterTemplate(raw: RawConfig = {}): TemplateJson {
  return clusterStack(raw).template;
}
