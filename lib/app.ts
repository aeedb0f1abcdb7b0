import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { CachedNagChecks } from './nag/cached-checks';
import { ClusterConfig, parseClusterConfig } from './config/cluster-config';
import { APP_FLAGS, appFlag, collectRawConfig } from './config/sources';
import { formatCostTable, reviewCost, writeCostReport } from './cost';
import { estimateBenchmarkRun } from './estimates/benchmark-run';
import { spendGuardWarnings } from './guard/spend-guard';
import { renderServeBundle, writeServeBundle } from './serve';
import { COST_TAG_KEY, P5RayClusterStack } from './stack';

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
 * Settings → validated config → stack → cloud assembly, then the two generated products beside the template:
 * `serve/` (the serve bundle) and `cost-report.{json,md}` computed from the synthesized template.
 */
export async function synthesizeCluster(app: App, inputs: SynthesisInputs): Promise<SynthesisResult> {
  const config = parseClusterConfig(collectRawConfig(inputs.context, inputs.readFile));
  const serveFiles = renderServeBundle(config);
  // Written before the stack is built: the folder is the source of the stack's serve-bundle asset, so a file
  // left from an earlier synth must not ride along.
  const serveBundleDir = join(app.outdir, 'serve');
  rmSync(serveBundleDir, { recursive: true, force: true });
  writeServeBundle(serveBundleDir, serveFiles);
  const stack = new P5RayClusterStack(app, config.stackName, {
    // Region only: an explicit account would make the VPC look up AZs and need credentials at synth.
    env: { region: config.region },
    description: `Ray + vLLM (NIXL, LMCache) on ${config.gpuNodes}x ${config.gpuInstanceType} with EFA`,
    config,
    serveBundleDir,
  });
  const nag = new CachedNagChecks(app, { cache: appFlag(inputs.context, APP_FLAGS.nagCache, true), cacheDir: inputs.nagCacheDir });
  Validations.of(app).addPlugins(nag);

  const assembly = app.synth();

  const template = assembly.getStackByName(stack.stackName).template;
  const report = await reviewCost({
    template,
    region: config.region,
    capacityBlock: config.capacityBlock,
    maxHours: config.maxHours,
    benchmark: estimateBenchmarkRun(config),
    live: appFlag(inputs.context, APP_FLAGS.livePrices),
  });
  writeCostReport(assembly.directory, report);
  for (const line of formatCostTable(report).split('\n')) inputs.log(line);
  inputs.log(`serve bundle: ${serveBundleDir} (${serveFiles.length} files)`);
  inputs.log(`cdk-nag AwsSolutions: passed${nag.lastOutcome === 'hit' ? ' (verdict cached for this exact template and acknowledgements)' : ''}`);
  for (const warning of spendGuardWarnings(config, COST_TAG_KEY)) inputs.log(warning);
  return { config, stack, outdir: assembly.directory };
}
