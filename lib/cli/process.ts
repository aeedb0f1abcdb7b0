/**
 * The one module that touches the process for the `npm run` commands; only the entry points under scripts/ import
 * it. Everything else takes its inputs as arguments, so tests drive it without a process.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CommandInputs } from './command';
import { readContextFiles } from './settings';

/** cdk.json sits beside package.json, so `npm run` finds it whatever the user's working directory was. */
export const PROJECT_ROOT = resolve(__dirname, '..', '..');

export function processInputs(): CommandInputs {
  return {
    argv: process.argv.slice(2),
    contextFiles: readContextFiles(PROJECT_ROOT),
    readFile: (path) => readFileSync(path, 'utf8'),
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    env: process.env,
  };
}

/** Runs a command to its exit code; only a bug in this code ends with a stack trace. */
export function runAsScript(command: (inputs: CommandInputs) => Promise<number>, inputs: CommandInputs = processInputs()): void {
  command(inputs).then((code) => {
    process.exitCode = code;
  }, (error: unknown) => {
    process.stderr.write(`internal error (please report): ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  });
}
