/**
 * `npm run preflight -- -c key=value ...`: checks the configuration against the live AWS account before a deploy.
 * Like bin/app.ts this is the only place that touches files and the process; the logic is in lib/preflight.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { runPreflightCommand } from '../lib/preflight';

function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function main(): Promise<number> {
  // cdk.json sits beside package.json, so `npm run` finds it whatever the user's cwd was.
  const root = resolve(__dirname, '..');
  return runPreflightCommand({
    argv: process.argv.slice(2),
    contextFiles: {
      user: readIfPresent(join(homedir(), '.cdk.json')),
      project: readIfPresent(join(root, 'cdk.json')),
      projectContext: readIfPresent(join(root, 'cdk.context.json')),
    },
    readFile: (path) => readFileSync(path, 'utf8'),
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  });
}

main().then((code) => {
  process.exitCode = code;
}, (err: unknown) => {
  process.stderr.write(`internal error (please report): ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
