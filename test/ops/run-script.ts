import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { runToEnd } from '../helpers/run-to-end';

export const ROOT = resolve(__dirname, '..', '..');

export interface ScriptRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly errorLines: string[];
}

/**
 * An environment with no AWS credentials anywhere the SDK's chain looks (variables, ~/.aws, SSO, container,
 * instance metadata), and PATH limited to node and the system: what a fresh laptop has.
 */
export function bareEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const home = mkdtempSync(join(tmpdir(), 'p5-home-'));
  return {
    PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    ...extra,
  };
}

/** Runs `scripts/<name>.ts` as `npm run <name>` does (node + tsx), with the given environment. */
export async function runScript(name: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<ScriptRun> {
  const run = await runToEnd(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', `${name}.ts`), ...args], { cwd: ROOT, env }, timeoutMs);
  return { ...run, errorLines: run.stderr.split('\n').filter((l) => l.startsWith('error: ')) };
}

/** A folder of stub programs: each logs its arguments, one per line, to <dir>/<name>.args and exits 0. */
export function stubBin(names: readonly string[]): { dir: string; argsOf: (name: string) => string } {
  const dir = mkdtempSync(join(tmpdir(), 'p5-stubs-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  for (const name of names) {
    writeFileSync(join(bin, name), `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done >"${join(dir, `${name}.args`)}"\n`);
    chmodSync(join(bin, name), 0o755);
  }
  return { dir: bin, argsOf: (name) => join(dir, `${name}.args`) };
}
