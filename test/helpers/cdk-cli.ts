/**
 * The real cdk CLI (node_modules/.bin/cdk, which runs the app through bin/register-ts.js as cdk.json says), run as a
 * user would, offline: no credentials, no metadata service.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, codeFingerprint, shareInRun } from './run-share';
import { runToEnd } from './run-to-end';

const CDK = join(REPO, 'node_modules', '.bin', 'cdk');

export interface CdkRun { readonly status: number | null; readonly stdout: string; readonly stderr: string }

/**
 * Node's on-disk compile cache for this process's runs: the cdk CLI is one 16 MB bundle that each run would
 * otherwise compile anew. It changes what Node compiles, never what runs.
 */
let compileCache: string | undefined;
function compileCacheDir(): string {
  if (compileCache === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'p5-cdk-compile-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    compileCache = dir;
  }
  return compileCache;
}

/** The test process's environment without AWS credentials or the metadata service, plus `extraEnv`. */
export function offlineEnv(extraEnv: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_EC2_METADATA_DISABLED: 'true', CDK_DISABLE_VERSION_CHECK: '1', NODE_COMPILE_CACHE: compileCacheDir() };
  for (const k of ['AWS_PROFILE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL']) delete env[k];
  return { ...env, ...extraEnv };
}

/** Two runs at a time in a process: each is a cdk CLI and the app it starts, mostly one busy core each. */
let running = 0;
const waiting: Array<() => void> = [];
async function inTurn<T>(job: () => Promise<T>): Promise<T> {
  if (running >= 2) await new Promise<void>((go) => waiting.push(go));
  running++;
  try {
    return await job();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/**
 * `cdk <args>` from the repository root, asynchronously (a local fake endpoint in this process can answer it, and
 * other runs go on beside it); killed after `timeoutMs`.
 */
export function cdk(args: readonly string[], extraEnv: NodeJS.ProcessEnv = {}, timeoutMs = 180_000): Promise<CdkRun> {
  return inTurn(async () => {
    const { code, stdout, stderr } = await runToEnd(CDK, args, { cwd: REPO, env: offlineEnv(extraEnv) }, timeoutMs);
    return { status: code, stdout, stderr };
  });
}

/** `cdk synth --quiet` into `outdir`, with `args` after it. */
export function cdkSynth(args: readonly string[], outdir: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<CdkRun> {
  return cdk(['synth', '--quiet', '--no-notices', '-o', outdir, ...args], extraEnv);
}

let defaultSynth: Promise<CdkRun & { outdir: string }> | undefined;

/**
 * `cdk synth --quiet` of the default configuration (cdk.json alone) into a temp folder, once per test run: the files
 * that need it (what the CLI prints and writes; the deployed template a `cdk diff` compares with) share one run.
 * Read its outdir, never write to it.
 */
export function cdkSynthDefault(): Promise<CdkRun & { outdir: string }> {
  const env = Object.entries(offlineEnv()).filter(([k]) => /^(AWS|CDK|JSII)_/.test(k)).sort();
  const key = `cdk-synth-default-${createHash('sha256').update(JSON.stringify(env))
    .update(codeFingerprint(['lib', 'bin', 'cdk.json', 'test/helpers/cdk-cli.ts'])).digest('hex')}`;
  defaultSynth ??= shareInRun(key, async () => {
    const outdir = mkdtempSync(join(tmpdir(), 'p5-cli-'));
    return { value: { ...await cdkSynth([], outdir), outdir }, folders: [outdir] };
  });
  return defaultSynth;
}
