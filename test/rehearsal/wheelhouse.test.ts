/**
 * `npm run wheelhouse`: the real uv (pinned) resolving and the real pip downloading from a local package index that
 * speaks PyPI's Simple API, for a target that already has some of the stack.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SOFTWARE } from '../../lib/catalog/software';
import { buildWheelhouse, manylinuxTags, missingOnTarget, readPins, wheelhouseRequirements } from '../../lib/rehearsal/wheelhouse';
import { FakeDist, FakeIndex, buildDists, serveIndex } from './fake-index';

const REPO = resolve(__dirname, '..', '..');
const VENV = join(REPO, '.test-venv', 'bin');

/** The pinned stack as tiny distributions: vLLM needs numpy; two numpys exist; torch's wheel is platform-specific. */
const DISTS: FakeDist[] = [
  { name: 'ray', version: SOFTWARE.ray, extras: ['serve', 'llm'], requires: ['numpy>=2'] },
  { name: 'vllm', version: SOFTWARE.vllm, requires: [`torch==${SOFTWARE.torch}`, 'numpy'] },
  { name: 'nixl', version: SOFTWARE.nixl },
  { name: 'torch', version: SOFTWARE.torch, tag: 'cp312-cp312-manylinux_2_28_x86_64' },
  { name: 'lmcache', version: SOFTWARE.lmcache, sdist: true, requires: ['numpy<=2.2.6'] },
  { name: 'numpy', version: '2.2.6' }, { name: 'numpy', version: '2.3.0' },
  { name: 'ninja', version: '1.13.2' }, { name: 'packaging', version: '24.2' }, { name: 'packaging', version: '26.3' }, { name: 'setuptools', version: '80.10.2' },
  { name: 'setuptools', version: '81.0.0' }, { name: 'setuptools_scm', version: '10.3.4' }, { name: 'grpcio', version: '1.78.0' },
  { name: 'grpcio-tools', version: '1.78.0', requires: ['grpcio>=1.78.0'] }, { name: 'wheel', version: '0.48.0' }, { name: 'pip', version: '26.3' },
];

describe('npm run wheelhouse', () => {
  let index: FakeIndex;
  before(async () => {
    index = await serveIndex(join(VENV, 'python'), buildDists(join(VENV, 'python'), DISTS));
  });
  after(() => index.stop());

  it('resolves the pinned stack for the target, prefers what it has, and downloads only the rest with LMCache\'s sdist', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'wheelhouse-')), 'wh');
    const freeze = join(mkdtempSync(join(tmpdir(), 'freeze-')), 'freeze.txt');
    // The target already has torch (as the H200's image does), numpy 2.2.6 and an older packaging that LMCache still
    // accepts (preferred over the index's newer one); its setuptools is too new for LMCache.
    writeFileSync(freeze, `torch==${SOFTWARE.torch}\nnumpy==2.2.6\npackaging==24.2\nsetuptools==81.0.0\nunrelated==1.0\n`);
    const lines: string[] = [];
    const m = buildWheelhouse({
      out, pythonVersion: '3.12.3', platform: 'x86_64-manylinux_2_39', targetFreeze: freeze, indexUrl: index.url,
      uv: join(VENV, 'uv'), python: join(VENV, 'python'), log: (l) => lines.push(l),
    });
    const files = readdirSync(out).filter((f) => f.endsWith('.whl') || f.endsWith('.tar.gz')).sort();
    assert.deepEqual(files, [
      'grpcio-1.78.0-py3-none-any.whl', 'grpcio_tools-1.78.0-py3-none-any.whl', `lmcache-${SOFTWARE.lmcache}.tar.gz`,
      'ninja-1.13.2-py3-none-any.whl', `nixl-${SOFTWARE.nixl}-py3-none-any.whl`,
      'pip-26.3-py3-none-any.whl', `ray-${SOFTWARE.ray}-py3-none-any.whl`, 'setuptools-80.10.2-py3-none-any.whl',
      'setuptools_scm-10.3.4-py3-none-any.whl', `vllm-${SOFTWARE.vllm}-py3-none-any.whl`, 'wheel-0.48.0-py3-none-any.whl',
    ]);
    // On the target and allowed: preferred by the resolver, not downloaded; setuptools 81 is not allowed.
    assert.deepEqual(m.alreadyOnTarget, ['numpy', 'packaging', 'torch']);
    assert.equal(m.resolved.setuptools, '80.10.2');
    assert.equal(m.files.length, 11);
    assert.match(m.files.find((f) => f.name.startsWith('lmcache'))!.sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).requirements, wheelhouseRequirements());
    assert.match(lines.join('\n'), /lmcache-0\.5\.6\.tar\.gz \(\d+ bytes, sha256 [0-9a-f]{16}… as the index lists\)/);
  });

  it('without a target freeze (a new venv, which sees none of the machine\'s packages) downloads the whole stack', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'wheelhouse-')), 'wh');
    const m = buildWheelhouse({
      out, pythonVersion: '3.12', platform: 'x86_64-manylinux_2_39', indexUrl: index.url, uv: join(VENV, 'uv'), python: join(VENV, 'python'),
    });
    assert.deepEqual(m.alreadyOnTarget, []);
    assert.ok(existsSync(join(out, `torch-${SOFTWARE.torch}-cp312-cp312-manylinux_2_28_x86_64.whl`)), 'the platform wheel, found through the manylinux tags');
    assert.ok(existsSync(join(out, 'numpy-2.2.6-py3-none-any.whl')), 'LMCache caps numpy');
  });

  it('reads pins from a freeze or a lock, and lists what the target lacks', () => {
    const pins = readPins('Ray[serve]==2.58.0\n# comment\nsetuptools_scm==10.3.4 ; python_version > "3"\n-e git+https://x\nnumpy==2.2.6\n');
    assert.deepEqual([...pins], [['ray', '2.58.0'], ['setuptools-scm', '10.3.4'], ['numpy', '2.2.6']]);
    assert.deepEqual([...missingOnTarget(pins, new Map([['numpy', '2.2.6'], ['ray', '2.57.0']]))], [['ray', '2.58.0'], ['setuptools-scm', '10.3.4']]);
  });

  it('names every manylinux tag a glibc accepts, newest first, and refuses a platform it cannot read', () => {
    const tags = manylinuxTags('x86_64-manylinux_2_39');
    assert.equal(tags[0], 'manylinux_2_39_x86_64');
    assert.ok(tags.includes('manylinux_2_17_x86_64') && tags.includes('manylinux2014_x86_64') && tags.includes('manylinux1_x86_64'));
    assert.equal(tags.at(-1), 'linux_x86_64');
    assert.throws(() => manylinuxTags('linux'), /--platform linux: use <arch>-manylinux_2_<glibc minor>/);
  });
});
