/**
 * Packages for a local Python package index (fake_index.py, which speaks PyPI's Simple Repository API): real wheels
 * and sdists, small ones made here (a METADATA with the dependencies given, a WHEEL, a RECORD), so uv and pip resolve
 * and download them exactly as they would from PyPI.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeDist {
  readonly name: string;
  readonly version: string;
  readonly requires?: readonly string[];
  readonly extras?: readonly string[];
  /** Wheel tag; default py3-none-any. */
  readonly tag?: string;
  /** Also (or only) an sdist. */
  readonly sdist?: boolean;
  readonly wheel?: boolean;
}

/** Writes the distributions' files into a folder with a real Python's zipfile and tarfile. */
export function buildDists(python: string, dists: readonly FakeDist[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'fake-index-'));
  execFileSync(python, ['-c', `
import io, json, sys, tarfile, zipfile, hashlib, base64
out, dists = sys.argv[1], json.loads(sys.stdin.read())
for d in dists:
    name, version = d["name"], d["version"]
    dist = name.replace("-", "_")
    meta = f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n"
    meta += "".join(f"Provides-Extra: {e}\\n" for e in d.get("extras", []))
    meta += "".join(f"Requires-Dist: {r}\\n" for r in d.get("requires", []))
    if d.get("wheel", True):
        info = f"{dist}-{version}.dist-info"
        files = {f"{dist}/__init__.py": "", f"{info}/METADATA": meta, f"{info}/WHEEL": "Wheel-Version: 1.0\\nGenerator: fake\\nRoot-Is-Purelib: true\\nTag: " + d.get("tag", "py3-none-any") + "\\n"}
        record = ""
        for path, text in files.items():
            digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
            record += f"{path},sha256={digest},{len(text)}\\n"
        files[f"{info}/RECORD"] = record + f"{info}/RECORD,,\\n"
        with zipfile.ZipFile(f"{out}/{dist}-{version}-{d.get('tag', 'py3-none-any')}.whl", "w") as z:
            for path, text in files.items():
                z.writestr(path, text)
    if d.get("sdist"):
        with tarfile.open(f"{out}/{name}-{version}.tar.gz", "w:gz") as t:
            data = ("Metadata-Version: 2.1\\nName: " + name + "\\nVersion: " + version + "\\n").encode()
            member = tarfile.TarInfo(f"{name}-{version}/PKG-INFO")
            member.size = len(data)
            t.addfile(member, io.BytesIO(data))
`, dir], { input: JSON.stringify(dists) });
  return dir;
}

export interface FakeIndex {
  readonly url: string;
  stop(): void;
}

/** Serves the folder from fake_index.py in its own process (uv and pip are run synchronously by the code under test). */
export async function serveIndex(python: string, dir: string): Promise<FakeIndex> {
  const child = spawn(python, [join(__dirname, 'fake_index.py'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((ok, fail) => {
    child.stdout.once('data', (d: Buffer) => ok(d.toString().trim()));
    child.once('exit', (code) => fail(new Error(`fake_index.py exited ${code}`)));
  });
  return { url, stop: () => { child.kill(); } };
}
