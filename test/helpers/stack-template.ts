import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { RawConfig, parseClusterConfig } from '../../lib/config/cluster-config';
import { P5RayClusterStack } from '../../lib/stack';
import type { TemplateJson } from './cfn-update';

const CDK_JSON_CONTEXT = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
const cache = new Map<string, { template: TemplateJson; stackName: string; region: string }>();

/**
 * The cluster stack's template for some settings, as `cdk deploy` synthesizes it (cdk.json's feature flags), without
 * the app's cdk-nag and cost review: what the update tests compare. Each configuration is synthesized once.
 */
export function clusterStack(raw: RawConfig = {}): { template: TemplateJson; stackName: string; region: string } {
  const key = JSON.stringify(raw);
  const known = cache.get(key);
  if (known) return known;
  const config = parseClusterConfig(raw);
  const app = new App({ builtinCloudFormationValidation: false, context: CDK_JSON_CONTEXT });
  const stack = new P5RayClusterStack(app, config.stackName, { config });
  const template = app.synth().getStackByName(stack.stackName).template as TemplateJson;
  const out = { template, stackName: stack.stackName, region: stack.region };
  cache.set(key, out);
  return out;
}

export function clusterTemplate(raw: RawConfig = {}): TemplateJson {
  return clusterStack(raw).template;
}
