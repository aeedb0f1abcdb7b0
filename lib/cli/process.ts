/**
 * The one module that touches the process for the `npm run` commands; only the entry points under scripts/ import
 * it. Everything else takes its inputs as arguments, so tests drive it without a process.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CommandInputs } from './command';
import { CommandSpec, ParsedCommandLine, runLocalCommand } from './command-line';
import { nodeRuntimeProblem } from './node-runtime';
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
  settle(() => command(inputs));
}

/** Runs a command that reads no settings (runLocalCommand: help, one `error:` line, exit code 2) as the process. */
export function runLocalScript(spec: CommandSpec, body: (args: ParsedCommandLine) => number | Promise<number>): void {
  settle(() => runLocalCommand(spec, {
    argv: process.argv.slice(2),
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  }, body));
}

/** Every command starts here: on a Node older than the project's floor, one `error:` line says which Node to use. */
function settle(start: () => Promise<number>): void {
  const problem = nodeRuntimeProblem();
  if (problem !== undefined) {
    process.stderr.write(`error: ${problem}\n`);
    process.exitCode = 1;
    return;
  }
  const run = start();
  // `npm run report -- --help | head`: a reader that stops early is not an error of this command.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  run.then((code) => {
    process.exitCode = code;
  }, (error: unknown) => {
    process.stderr.write(`internal error (please report): ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  });
}
