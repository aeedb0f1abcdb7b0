#!/usr/bin/env node
/**
 * The CDK app: reads the settings (the only place that does), validates them, builds the stack, runs cdk-nag,
 * and after synthesis writes the serve bundle and the cost review into the cloud assembly folder.
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
    process.stderr.write(`error: cdk-nag found unacknowledged findings; see ${join(process.env.CDK_OUTDIR ?? 'cdk.out', 'validation-report.json')}\n`);
  } else {
    process.stderr.write(`internal error (please report): ${err instanceof Error ? err.stack : String(err)}\n`);
  }
  process.exitCode = 1;
});
