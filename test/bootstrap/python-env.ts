/**
 * A Python environment for running the real node-side Python files (lib/bootstrap/python) here: the machine's own
 * Python, with the stand-in packages of test/bootstrap/fakes, their `*.dist-info` metadata (the versions the checks
 * compare) and, for LMCache, a real compiled extension module built from fakes/cuda_ops.c.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { SOFTWARE } from '../../lib/catalog/software';

export const FAKES_DIR = join(__dirname, 'fakes');

/** The interpreter the tests run the node files with, and what it needs to load an extension module. */
export const REAL_PYTHON = (() => {
  const out = execFileSync('python3', ['-c',
    'import sys, sysconfig; print(sys.executable); print(sysconfig.get_paths()["include"]); print(sysconfig.get_config_var("EXT_SUFFIX"))',
  ], { encoding: 'utf8' }).trim().split('\n');
  return { executable: out[0], include: out[1], extSuffix: out[2] };
})();

/** How LMCache's CUDA kernels came out of the build. */
export type LmcacheKernels = 'compiled' | 'missing' | 'undefined-symbol';

export interface FakePythonOptions {
  readonly kernels?: LmcacheKernels;
  /** Installed versions, by distribution; default: the pinned ones (lib/catalog/software.ts). */
  readonly versions?: Partial<Record<'ray' | 'vllm' | 'nixl' | 'lmcache' | 'torch', string>>;
}

const builtKernels = new Map<string, string>();

/** fakes/cuda_ops.c compiled (once per variant and test process) into a loadable extension module. */
function kernelsModule(variant: 'compiled' | 'undefined-symbol'): string {
  const cached = builtKernels.get(variant);
  if (cached) return cached;
  const out = join(mkdtempSync(join(tmpdir(), 'p5-kernels-')), `cuda_ops${REAL_PYTHON.extSuffix}`);
  execFileSync('cc', ['-shared', '-fPIC', '-O0', `-I${REAL_PYTHON.include}`,
    ...(variant === 'undefined-symbol' ? ['-DUNDEFINED_SYMBOL'] : []), join(FAKES_DIR, 'cuda_ops.c'), '-o', out]);
  builtKernels.set(variant, out);
  return out;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Builds the site directory (to put on PYTHONPATH) under `dir` and returns it. */
export function makeFakePython(dir: string, options: FakePythonOptions = {}): string {
  const site = join(dir, 'site');
  mkdirSync(site, { recursive: true });
  cpSync(FAKES_DIR, site, { recursive: true, filter: (src) => !src.endsWith('.c') && !src.endsWith('.md') && !src.includes('__pycache__') });
  const kernels = options.kernels ?? 'compiled';
  if (kernels !== 'missing') cpSync(kernelsModule(kernels), join(site, 'lmcache', `cuda_ops${REAL_PYTHON.extSuffix}`));
  const versions = {
    ray: SOFTWARE.ray, vllm: SOFTWARE.vllm, nixl: SOFTWARE.nixl, lmcache: SOFTWARE.lmcache, torch: '2.11.0', ...options.versions,
  };
  for (const [name, version] of Object.entries(versions)) {
    const info = join(site, `${name}-${version}.dist-info`);
    mkdirSync(info);
    writeFileSync(join(info, 'METADATA'), `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n`);
    const pkg = join(site, name);
    const files = existsSync(pkg) ? filesUnder(pkg).map((f) => relative(site, f)) : [];
    writeFileSync(join(info, 'RECORD'), [...files, `${name}-${version}.dist-info/METADATA`].map((f) => `${f},,\n`).join(''));
  }
  return site;
}

/** Zips files (name → content) with the real Python's zipfile, as `python -m zipfile -e` on the node expects. */
export function writeZip(path: string, files: Record<string, string>): void {
  execFileSync(REAL_PYTHON.executable, ['-c',
    'import json, sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], "w") as z:\n    for n, t in json.loads(sys.stdin.read()).items(): z.writestr(n, t)',
    path], { input: JSON.stringify(files) });
}
