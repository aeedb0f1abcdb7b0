/**
 * `npm run build:lib` (and `npm pack -w p5-ray-kv-cluster`, whose prepack runs it): compiles the construct package's
 * part of lib/ into packages/p5-ray-kv-cluster/dist/ (JavaScript + type declarations) for other CDK apps, and copies
 * the files those modules read at run time (node scripts, serve assets) beside them.
 *
 * Only what lib/index.ts imports is compiled (tsconfig.build.json names it as the one root file; tsc follows its
 * imports), so the package carries no report, chart, ops, capacity or preflight code and needs none of their
 * dependencies. It writes only that dist/ (the package's main, types and files name it) and deletes only what an
 * earlier build wrote there, as listed in its manifest: a dist/ it did not write is left alone, with an `error:` line.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { CommandFailure, CommandSpec } from '../lib/cli/command-line';
import { runLocalScript } from '../lib/cli/process';

const root = resolve(__dirname, '..');
/** The construct package, a workspace of this repository: what other CDK apps install. */
export const PACKAGE_DIR = join(root, 'packages', 'p5-ray-kv-cluster');
export const OUT_DIR = join(PACKAGE_DIR, 'dist');
/** Every file the last build wrote, relative to dist/, one per line: what the next build may delete. */
export const MANIFEST = '.build-lib-files';

export const BUILD_LIB_COMMAND: CommandSpec = {
  invocation: 'npm run build:lib --',
  summary: 'Compiles lib/index.ts and what it imports into packages/p5-ray-kv-cluster/dist/ (JavaScript + type ' +
    'declarations, as that package\'s main, types and exports name them) and copies the files those modules read at ' +
    'run time beside them. It writes only that dist/, and deletes only the files an earlier build wrote there ' +
    `(listed in dist/${MANIFEST}); it takes no arguments.`,
  options: {},
  settings: false,
  exitCodes: [
    [0, 'built dist/'],
    [1, 'dist/ holds files no earlier build wrote (nothing deleted), or the compile failed'],
    [2, 'bad arguments (one `error:` line; nothing deleted or written)'],
  ],
};

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => !e.isDirectory())
    .map((e) => relative(dir, join(e.parentPath, e.name)));
}

/**
 * Removes the files an earlier build listed, then the folders they leave empty; refuses, before deleting anything,
 * when dist/ holds a file that list does not name.
 */
export function removePreviousBuild(outDir: string): void {
  if (!existsSync(outDir)) return;
  const manifestPath = join(outDir, MANIFEST);
  const listed = new Set(existsSync(manifestPath) ? readFileSync(manifestPath, 'utf8').split('\n').filter((l) => l !== '') : []);
  listed.add(MANIFEST);
  const foreign = filesUnder(outDir).filter((f) => !listed.has(f));
  if (foreign.length > 0) {
    throw new CommandFailure(`${relative(root, outDir)}/ holds ${foreign.length} file(s) no earlier build:lib wrote ` +
      `(${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}${existsSync(manifestPath) ? '' : `; there is no ${MANIFEST}`}): ` +
      'nothing was deleted; move or delete them yourself, then build again');
  }
  const dirs = new Set<string>();
  for (const file of listed) {
    rmSync(join(outDir, file), { force: true });
    for (let d = dirname(file); d !== '.'; d = dirname(d)) dirs.add(d);
  }
  // Deepest first; a folder still holding something is not ours to remove.
  for (const d of [...dirs].sort((a, b) => b.split(sep).length - a.split(sep).length)) {
    if (readdirSync(join(outDir, d)).length === 0) rmdirSync(join(outDir, d));
  }
  if (readdirSync(outDir).length === 0) rmdirSync(outDir);
}

/**
 * Copies every file of lib/ that is not TypeScript (node scripts, Python, serve assets) into `outDir`, for the
 * folders of lib/ that were compiled there: lib/rehearsal's assets stay out with the rehearsal, which the package
 * does not import.
 */
export function copyRuntimeFiles(libDir: string, outDir: string, dir = libDir): number {
  let copied = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const target = join(outDir, relative(libDir, path));
    if (statSync(path).isDirectory()) {
      if (name === '__pycache__') continue;
      if (dir === libDir && !existsSync(target)) continue;
      copied += copyRuntimeFiles(libDir, outDir, path);
    } else if (!name.endsWith('.ts')) {
      cpSync(path, target);
      copied += 1;
    }
  }
  return copied;
}

if (require.main === module) {
  runLocalScript(BUILD_LIB_COMMAND, () => {
    removePreviousBuild(OUT_DIR);
    mkdirSync(OUT_DIR, { recursive: true });
    const record = () => writeFileSync(join(OUT_DIR, MANIFEST), `${filesUnder(OUT_DIR).filter((f) => f !== MANIFEST).sort().join('\n')}\n`);
    try {
      execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', OUT_DIR],
        { stdio: 'inherit' });
    } catch {
      // A failed compile's output is recorded too, so that the next build may replace it.
      record();
      throw new CommandFailure('tsc failed to compile lib/ (its errors are above)');
    }
    const copied = copyRuntimeFiles(join(root, 'lib'), OUT_DIR);
    record();
    console.log(`built ${relative(root, OUT_DIR)}: compiled lib/index.ts and what it imports, and copied ${copied} runtime files`);
    return 0;
  });
}
