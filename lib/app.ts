import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { DEPLOY_CACHE_STACK_NAME, DeployCacheStack } from './cache/deploy-cache';
import { COST_TAG_KEY } from './cluster/p5-ray-cluster';
import { ClusterConfig, parseClusterConfig } from './config/cluster-config';
import { APP_FLAGS, appFlag, collectRawConfig } from './config/sources';
import { formatCostTable, formatTotal, writeCostReport } from './cost';
import { reviewClusterCosts } from './cluster/cost-review';
import { updateNotice } from './cluster/update-notice';
import { spendGuardWarnings } from './guard/spend-guard';
import { CachedNagChecks } from './nag/cached-checks';
import { P5RayClusterStack } from './stack';

export interface SynthesisInputs {
  /** All CDK context (cdk.json and `-c key=value`), as the app received it. */
  readonly context: Readonly<Record<string, unknown>>;
  readonly readFile: (path: string) => string;
  /** Where the cost table and warnings go (stderr under `cdk synth`). */
  readonly log: (line: string) => void;
  /** Folder for cached cdk-nag verdicts. @default CachedNagChecks' default */
  readonly nagCacheDir?: string;
}

export interface SynthesisResult {
  readonly config: ClusterConfig;
  readonly stack: P5RayClusterStack;
  readonly outdir: string;
}

/**
 * This repository's app: settings (defaults → YAML → context) → one stack with one P5RayCluster, cdk-nag as a
 * validation plugin, then the app-level products beside the template: `cost-report.{json,md}` reviewed from the
 * synthesized template, and `serve/`, a readable copy of the cluster's serve bundle.
 */
export async function synthesizeCluster(app: App, inputs: SynthesisInputs): Promise<SynthesisResult> {
  const config = parseClusterConfig(collectRawConfig(inputs.context, inputs.readFile));
  const stack = new P5RayClusterStack(app, config.stackName, { config });
  // The deploy cache's own stack, when no bucket is named: deployed first, and left by `cdk destroy <cluster>`.
  if (config.deployCache && config.cacheBucketName === undefined) {
    stack.addStackDependency(new DeployCacheStack(app, DEPLOY_CACHE_STACK_NAME, { region: config.region }),
      'its nodes restore from and fill the deploy-cache bucket');
  }
  const nag = new CachedNagChecks(app, { cache: appFlag(inputs.context, APP_FLAGS.nagCache, true), cacheDir: inputs.nagCacheDir });
  Validations.of(app).addPlugins(nag);

  const assembly = app.synth();

  const [review] = await reviewClusterCosts(app, assembly, { live: appFlag(inputs.context, APP_FLAGS.livePrices) });
  writeCostReport(assembly.directory, review.report);
  for (const line of formatCostTable(review.report).split('\n')) inputs.log(line);
  const serveDir = join(assembly.directory, 'serve');
  rmSync(serveDir, { recursive: true, force: true });
  cpSync(stack.cluster.serveBundle.directory, serveDir, { recursive: true });
  inputs.log(`serve bundle: ${serveDir} (${stack.cluster.serveBundle.files.length} files)`);
  inputs.log(`cdk-nag AwsSolutions: passed${nag.lastOutcome === 'hit' ? ' (verdict cached for this exact template and acknowledgements)' : ''}`);
  for (const line of updateNotice(config, stack.cluster.nodes.generation.id)) inputs.log(line);
  for (const warning of spendGuardWarnings(config, COST_TAG_KEY, `${formatTotal(review.report, review.report.totalHourlyUsd)}/h`)) {
    inputs.log(warning);
  }
  return { config, stack, outdir: assembly.directory };
}
