import { createHash } from 'crypto';
import { execFileSync, spawnSync } from 'child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'fs';
import { join } from 'path';
import { SOFTWARE } from '../catalog/software';

/**
 * An air-gapped install's wheelhouse: on a connected machine, the pinned stack resolved for the target's Python and
 * platform by uv (preferring what the target already has, from its `pip freeze`), every wheel the target lacks
 * downloaded by pip, and LMCache's sdist with its build requirements, so that stack-install.sh installs and builds
 * everything with no network (uv --offline --no-index, pip --no-index).
 */
export interface WheelhouseOptions {
  readonly out: string;
  /** e.g. 3.12 or 3.12.3. */
  readonly pythonVersion: string;
  /** uv's --python-platform, e.g. x86_64-manylinux_2_39 (glibc 2.39). */
  readonly platform: string;
  /** The target's `pip freeze` (name==version lines): what it has is preferred and not downloaded. */
  readonly targetFreeze?: string;
  /** The package index (default: PIP_INDEX_URL, else PyPI's simple index). */
  readonly indexUrl: string;
  /** The uv and pip to run. */
  readonly uv: string;
  readonly python: string;
  readonly log?: (line: string) => void;
}

/** Everything the node bootstrap (and the rehearsal) installs, plus what seeds a venv offline. */
export function wheelhouseRequirements(): string[] {
  return [
    `ray[serve,llm]==${SOFTWARE.ray}`, `vllm==${SOFTWARE.vllm}`, `nixl==${SOFTWARE.nixl}`, `torch==${SOFTWARE.torch}`,
    `lmcache==${SOFTWARE.lmcache}`, ...SOFTWARE.lmcacheBuildRequires,
    // `uv venv --seed` installs these into a new venv.
    'pip', 'setuptools', 'wheel',
  ];
}

export type Pins = ReadonlyMap<string, string>;

/** PEP 503 normalized name. */
export function normalize(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** name==version lines (a `pip freeze` or a uv lock), comments and other lines ignored. */
export function readPins(text: string): Map<string, string> {
  const pins = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;#]+)/.exec(line.trim());
    if (m) pins.set(normalize(m[1]), m[2]);
  }
  return pins;
}

/** What the target must receive: every resolved pin it does not already have at exactly that version. */
export function missingOnTarget(resolved: Pins, target: Pins): Map<string, string> {
  return new Map([...resolved].filter(([name, version]) => target.get(name) !== version));
}

/**
 * The platform tags pip must be told one by one (it matches them exactly): every manylinux tag a glibc of that
 * version accepts, newest first, then the legacy aliases and plain linux.
 */
export function manylinuxTags(platform: string): string[] {
  const m = /^(x86_64|aarch64)-manylinux_2_(\d+)$/.exec(platform);
  if (m === null) throw new WheelhouseError(`--platform ${platform}: use <arch>-manylinux_2_<glibc minor>, e.g. x86_64-manylinux_2_39`);
  const [, arch, minor] = m;
  const tags: string[] = [];
  for (let v = Number(minor); v >= 5; v--) tags.push(`manylinux_2_${v}_${arch}`);
  if (arch === 'x86_64') tags.push('manylinux2014_x86_64', 'manylinux2010_x86_64', 'manylinux1_x86_64');
  else tags.push('manylinux2014_aarch64');
  tags.push(`linux_${arch}`);
  return tags;
}

export class WheelhouseError extends Error {}

export interface WheelhouseManifest {
  readonly tool: string;
  readonly pythonVersion: string;
  readonly platform: string;
  readonly requirements: readonly string[];
  readonly resolved: Readonly<Record<string, string>>;
  readonly alreadyOnTarget: readonly string[];
  readonly files: readonly { readonly name: string; readonly bytes: number; readonly sha256: string }[];
  readonly totalBytes: number;
}

/** Runs the whole preparation; returns the manifest it wrote beside the files. */
export function buildWheelhouse(o: WheelhouseOptions): WheelhouseManifest {
  const log = o.log ?? (() => undefined);
  mkdirSync(o.out, { recursive: true });
  const requirements = wheelhouseRequirements();
  const inFile = join(o.out, 'requirements.in');
  const lock = join(o.out, 'requirements.lock');
  writeFileSync(inFile, `${requirements.join('\n')}\n`);
  const target = o.targetFreeze === undefined ? new Map<string, string>() : readPins(readFileSync(o.targetFreeze, 'utf8'));
  // uv pip compile prefers the versions already in its output file: start it from what the target has.
  if (o.targetFreeze !== undefined) copyFileSync(o.targetFreeze, lock);
  log(`resolving ${requirements.length} requirements for Python ${o.pythonVersion} on ${o.platform}${o.targetFreeze ? `, preferring the ${target.size} packages of ${o.targetFreeze}` : ''}`);
  run(o.uv, ['pip', 'compile', inFile, '-o', lock, '--python-version', o.pythonVersion, '--python-platform', o.platform,
    '--index-url', o.indexUrl, '--no-header', '--quiet'], 'uv pip compile');
  const resolved = readPins(readFileSync(lock, 'utf8'));
  const missing = missingOnTarget(resolved, target);
  const lmcache = normalize('lmcache');
  const wheels = [...missing].filter(([name]) => name !== lmcache).map(([n, v]) => `${n}==${v}`);
  log(`${resolved.size} packages resolved, ${resolved.size - missing.size} already on the target; downloading ${wheels.length} wheels and LMCache's sdist`);
  const wheelList = join(o.out, 'download.txt');
  writeFileSync(wheelList, `${wheels.join('\n')}\n`);
  const abi = `cp${o.pythonVersion.split('.').slice(0, 2).join('')}`;
  run(o.python, ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--disable-pip-version-check', '--python-version',
    o.pythonVersion.split('.').slice(0, 2).join('.'), '--implementation', 'cp', '--abi', abi, '--abi', 'abi3', '--abi', 'none',
    ...manylinuxTags(o.platform).flatMap((t) => ['--platform', t]), '--index-url', o.indexUrl, '-d', o.out, '-r', wheelList], 'pip download');
  // LMCache comes as its sdist, built on the target against the target's torch: pip download of an sdist would run
  // its build backend here (which wants torch), so the file is fetched from the index and checked against its hash.
  fetchSdist(o.indexUrl, 'lmcache', SOFTWARE.lmcache, o.out, log);
  const files = readdirSync(o.out).filter((f) => f.endsWith('.whl') || f.endsWith('.tar.gz')).sort().map((name) => {
    const data = readFileSync(join(o.out, name));
    return { name, bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') };
  });
  const manifest: WheelhouseManifest = {
    tool: `npm run wheelhouse (uv ${SOFTWARE.uv})`,
    pythonVersion: o.pythonVersion,
    platform: o.platform,
    requirements,
    resolved: Object.fromEntries(resolved),
    alreadyOnTarget: [...resolved.keys()].filter((n) => !missing.has(n)).sort(),
    files,
    totalBytes: files.reduce((a, f) => a + f.bytes, 0),
  };
  writeFileSync(join(o.out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** Downloads <name>-<version>.tar.gz from a PEP 691 (JSON) simple index, verified against the sha256 it lists. */
export function fetchSdist(indexUrl: string, name: string, version: string, out: string, log: (l: string) => void): string {
  const fileName = `${name}-${version}.tar.gz`;
  const page = execFileSync('curl', ['-fsSL', '-H', 'Accept: application/vnd.pypi.simple.v1+json', `${indexUrl.replace(/\/$/, '')}/${name}/`], { encoding: 'utf8' });
  const entry = (JSON.parse(page) as { files: { filename: string; url: string; hashes: { sha256?: string } }[] }).files.find((f) => f.filename === fileName);
  if (entry === undefined) throw new WheelhouseError(`the index ${indexUrl} lists no ${fileName}`);
  const url = new URL(entry.url, `${indexUrl.replace(/\/$/, '')}/${name}/`).toString();
  const path = join(out, fileName);
  execFileSync('curl', ['-fsSL', '-o', path, url]);
  const sha = createHash('sha256').update(readFileSync(path)).digest('hex');
  if (entry.hashes.sha256 !== undefined && sha !== entry.hashes.sha256) {
    throw new WheelhouseError(`${fileName}: sha256 ${sha}, the index lists ${entry.hashes.sha256}`);
  }
  log(`${fileName} (${statSync(path).size} bytes, sha256 ${sha.slice(0, 16)}… as the index lists)`);
  return path;
}

function run(cmd: string, args: string[], what: string): void {
  // uv may not fetch a Python of its own to build with: everything here is a wheel, or an sdist only downloaded.
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, UV_PYTHON_DOWNLOADS: 'never' } });
  if (r.status !== 0) {
    const err = `${r.stderr ?? ''}${r.stdout ?? ''}`.trim().split('\n').slice(-8).join('\n');
    throw new WheelhouseError(`${what} failed (exit ${r.status ?? r.signal}): ${err || r.error?.message || 'no output'}`);
  }
}

/** uv at the pinned version: the one on PATH if it is that version, else one installed into the project's cache. */
export function findUv(cacheDir: string, python: string, log: (l: string) => void): string {
  const onPath = spawnSync('uv', ['--version'], { encoding: 'utf8' });
  if (onPath.status === 0 && onPath.stdout.trim() === `uv ${SOFTWARE.uv}`) return 'uv';
  const venv = join(cacheDir, `uv-${SOFTWARE.uv}`);
  const uv = join(venv, 'bin', 'uv');
  if (!existsSync(uv)) {
    log(`installing uv ${SOFTWARE.uv} into ${venv}`);
    run(python, ['-m', 'venv', venv], 'python -m venv');
    run(join(venv, 'bin', 'python'), ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', `uv==${SOFTWARE.uv}`], 'pip install uv');
  }
  return uv;
}
