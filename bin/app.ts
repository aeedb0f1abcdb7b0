#!/usr/bin/env node
/**
 * The CDK app: the only place that reads the process (context, files, stderr). It hands the settings to
 * lib/app.ts, which validates them and builds one stack with one P5RayCluster. User errors end as one `error:` line
 * each and exit code 1, never as a stack trace.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { nodeRuntimeProblem } from '../lib/cli/node-runtime';
import { ConfigError } from '../lib/config/errors';
import { APP_FLAGS, appFlag } from '../lib/config/sources';
import { synthesizeCluster } from '../lib/app';

async function main(): Promise<void> {
  // cdk runs this app with the `node` first on its PATH: under `npx cdk`, the project's own (lib/catalog/software.ts).
  const nodeProblem = nodeRuntimeProblem();
  if (nodeProblem !== undefined) {
    process.stderr.write(`error: ${nodeProblem}\n`);
    process.exitCode = 1;
    return;
  }
  // The App reads the context itself, so the validation flag is read from a first App, which must never synthesize:
  // under the cdk CLI an App synthesizes itself on exit, and an empty one would overwrite the real assembly.
  const probe = new App({ autoSynth: false, builtinCloudFormationValidation: false });
  const app = new App({ builtinCloudFormationValidation: appFlag(contextOf(probe), APP_FLAGS.cfnValidation) });
  await synthesizeCluster(app, {
    context: contextOf(app),
    readFile: (path) => readFileSync(path, 'utf8'),
    log: (line) => process.stderr.write(`${line}\n`),
  });
}

function contextOf(app: App): Readonly<Record<string, unknown>> {
  return app.node.getAllContext() as Record<string, unknown>;
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    for (const problem of err.problems) process.stderr.write(`error: ${problem}\n`);
  } else if (err instanceof Error && /^Validation failed/.test(err.message)) {
    // The findings themselves are printed above by aws-cdk-lib.
    process.stderr.write(`error: the template failed validation (cdk-nag AwsSolutions, or -c cfnValidation=true); ` +
      `report: ${join(process.env.CDK_OUTDIR ?? 'cdk.out', 'validation-report.json')}\n`);
  } else {
    process.stderr.write(`internal error (please report): ${err instanceof Error ? err.stack : String(err)}\n`);
  }
  process.exitCode = 1;
});
