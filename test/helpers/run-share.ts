/**
 * Work the test files of one `node --test` run share: a result computed once per run for each key (a synth of the
 * default stack, a `cdk synth` through the CLI), in a folder of that run. A later run never reads it, so nothing a
 * fresh machine would not do is skipped across runs; the keys still name every input (`codeFingerprint`), so a
 * change of the code during a run is a new key.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REPO = join(__dirname, '..', '..');
const RUN_DIR_PREFIX = 'p5-test-run-';

/** A value the run's folder keeps: its JSON, and the temp folders (outdirs) it names, removed with the run's folder. */
export interface Shared<T> {
  readonly value: T;
  readonly folders: readonly string[];
}

/**
 * A hash of the code a result depends on: the given folders and files of the repository (Python bytecode caches
 * left out), the dependency versions (package-lock.json) and Node's version.
 */
export function codeFingerprint(paths: readonly string[]): string {
  const hash = createHash('sha256').update(process.version);
  for (const path of [...paths, 'package-lock.json']) hashPath(hash, join(REPO, path));
  return hash.digest('hex');
}

function hashPath(hash: ReturnType<typeof createHash>, path: string): void {
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path).sort()) if (name !== '__pycache__') hashPath(hash, join(path, name));
  } else {
    hash.update(path).update(readFileSync(path));
  }
}

/**
 * The folder the test files of this run share: P5_TEST_RUN_DIR when set, else the `node --test` runner's own (the
 * parent of a test file's process, which the runner marks with NODE_TEST_CONTEXT), named by its pid and start time
 * so that a later run never reads it. Undefined outside the runner, or where /proc is missing: each process then
 * computes for itself.
 */
function runDir(): string | undefined {
  if (process.env.P5_TEST_RUN_DIR) return process.env.P5_TEST_RUN_DIR;
  if (!process.env.NODE_TEST_CONTEXT) return undefined;
  const started = startTime(process.ppid);
  if (started === undefined) return undefined;
  const dir = join(tmpdir(), `${RUN_DIR_PREFIX}${process.ppid}-${started}`);
  if (!existsSync(dir)) removeEndedRuns();
  return dir;
}

/** A process's start time (field 22 of /proc/<pid>/stat, after the parenthesized command name), if it runs. */
function startTime(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[19];
  } catch {
    return undefined;
  }
}

/** The folders of runs whose runner has ended, with the temp folders their results name. */
function removeEndedRuns(): void {
  for (const name of readdirSync(tmpdir())) {
    const [, pid, started] = new RegExp(`^${RUN_DIR_PREFIX}(\\d+)-(\\d+)$`).exec(name) ?? [];
    if (pid === undefined || startTime(Number(pid)) === started) continue;
    const dir = join(tmpdir(), name);
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      const { folders = [] } = JSON.parse(readOrEmpty(join(dir, file)) || '{}') as { folders?: string[] };
      for (const folder of folders) if (folder.startsWith(join(tmpdir(), 'p5-'))) rmSync(folder, { recursive: true, force: true });
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `compute`'s value from the run's folder, or computed and written there. One process computes each key: the others
 * wait for its result (a lock folder), or compute it themselves if it fails or its process died. A failure is never
 * shared: each caller fails on its own, as it would alone.
 */
export async function shareInRun<T>(key: string, compute: () => Promise<Shared<T>>): Promise<T> {
  // Every caller gets the value as JSON gives it back, the process that computed it too.
  const dir = runDir();
  if (dir === undefined) return (JSON.parse(JSON.stringify(await compute())) as Shared<T>).value;
  const result = join(dir, `${key}.json`);
  const lock = join(dir, `${key}.lock`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (;;) {
    if (existsSync(result)) return (JSON.parse(readFileSync(result, 'utf8')) as Shared<T>).value;
    try {
      mkdirSync(lock);
    } catch {
      // Another process computes this key: wait for its result, unless it died (or never said who it is).
      const owner = Number(readOrEmpty(join(lock, 'pid')));
      if ((owner > 0 && !alive(owner)) || (owner === 0 && Date.now() - mtimeOf(lock) > 10_000)) rmSync(lock, { recursive: true, force: true });
      else await new Promise((resolve) => setTimeout(resolve, 100));
      continue;
    }
    writeFileSync(join(lock, 'pid'), String(process.pid));
    try {
      const text = JSON.stringify(await compute());
      const partial = `${result}.${process.pid}.tmp`;
      writeFileSync(partial, text);
      renameSync(partial, result);
      return (JSON.parse(text) as Shared<T>).value;
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function mtimeOf(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return Date.now();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
