#!/usr/bin/env node
/**
 * The CDK app: reads the settings (the only place that does) and hands them to lib/app.ts, which validates them,
 * writes the serve bundle, builds the stack, runs cdk-nag and writes the cost review into the cloud assembly.
 * User errors end as one `error:` line each and exit code 1, never as a stack trace.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { ConfigError } from '../lib/config/errors';
import { APP_FLAGS, appFlag } from '../lib/config/sources';
import { synthesizeCluster } from '../lib/app';

async function main(): Promise<void> {
  // The App reads the context itself, so the validation flag is read from a first, unused App.
  const fast = new App({ builtinCloudFormationValidation: false });
  const app = appFlag(fast.node.getAllContext(), APP_FLAGS.cfnValidation) ? new App() : fast;
  await synthesizeCluster(app, {
    context: app.node.getAllContext(),
    readFile: (path) => readFileSync(path, 'utf8'),
    log: (line) => process.stderr.write(`${line}\n`),
  });
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
