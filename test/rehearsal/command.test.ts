/**
 * `npm run rehearse -- prepare`: the folder it writes, read back the way its consumers read it (rehearsal.env by
 * bash, the serve files by the same code as the cluster's), and what it refuses to overwrite.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { SOFTWARE } from '../../lib/catalog/software';

const REPO = resolve(__dirname, '..', '..');
const TSX = join(REPO, 'node_modules', '.bin', 'tsx');

function rehearse(args: readonly string[], cwd: string) {
  const r = spawnSync(TSX, [join(REPO, 'scripts', 'rehearse.ts'), ...args], { cwd, encoding: 'utf8', env: { ...process.env, PATH: `${join(REPO, 'node_modules', '.bin')}:/usr/bin:/bin` } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('npm run rehearse -- prepare', () => {
  it('writes a self-contained folder for the GPU machine: driver, settings, node checks, serve bundle, provenance', () => {
    const work = mkdtempSync(join(tmpdir(), 'rehearse-cmd-'));
    const out = join(work, 'out');
    const r = rehearse(['prepare', '--dir', '/srv/p5-rehearsal', '--gpus', '2', '--gpu-name', 'NVIDIA H200', '--out', out,
      '--venv', '/opt/torch/.venv', '--wheelhouse', '/srv/wh'], work);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /rehearsal prepared in .* for \/srv\/p5-rehearsal on 2 x NVIDIA H200/);
    for (const f of ['rehearse.sh', 'rehearsal.env', 'provenance.json', 'node/stack-install.sh', 'node/verify_stack.py', 'node/nixl_probe.py',
      'node/node_facts.py', 'node/make_tiny_model.py', 'node/rehearsal_record.py', 'node/prometheus.yml', 'serve/builder.py', 'serve/run_all.sh',
      'serve/pd_nixl.yaml', 'serve/pd_prefill_lmcache.prefix-aware.layout.json']) {
      assert.ok(existsSync(join(out, f)), f);
    }
    // The node's install code is the node's, byte for byte.
    assert.equal(readFileSync(join(out, 'node/stack-install.sh'), 'utf8'), readFileSync(join(REPO, 'lib/bootstrap/scripts/stack-install.sh'), 'utf8'));
    // rehearsal.env as bash reads it.
    const env = execFileSync('bash', ['-c', `. "$1"; printf '%s\\n' "$VENV" "$WHEELHOUSE" "$GPUS" "$MODEL" "$LMCACHE_BUILD_REQUIRES" "$PD_SHARES_GPUS"`, 'x', join(out, 'rehearsal.env')], { encoding: 'utf8' }).split('\n');
    assert.deepEqual(env.slice(0, 6), ['/opt/torch/.venv', '/srv/wh', '2', '/srv/p5-rehearsal/model/tiny', SOFTWARE.lmcacheBuildRequires.join(' '), '0']);
    const prov = JSON.parse(readFileSync(join(out, 'provenance.json'), 'utf8'));
    assert.equal(prov.tool, 'p5-ray-kv-cluster rehearsal');
    assert.match(prov.commit, /^[0-9a-f]{40}$/);
    assert.match(prov.command, /^npm run rehearse -- prepare --dir \/srv\/p5-rehearsal --gpus 2/);
    // The serve files point at the rehearsal's folder on the GPU machine.
    assert.match(readFileSync(join(out, 'serve/pd_nixl.yaml'), 'utf8'), /PYTHONPATH: \/srv\/p5-rehearsal\/serve/);
  });

  it('prepares again over its own folder (results stay) and refuses any other folder, deleting nothing', () => {
    const work = mkdtempSync(join(tmpdir(), 'rehearse-cmd-'));
    const out = join(work, 'out');
    const args = ['prepare', '--dir', '/srv/r', '--gpus', '1', '--gpu-name', 'NVIDIA H200', '--out', out];
    assert.equal(rehearse(args, work).code, 0);
    mkdirSync(join(out, 'results', 'run1'), { recursive: true });
    writeFileSync(join(out, 'serve', 'stale.yaml'), 'x');
    assert.equal(rehearse(args, work).code, 0);
    assert.ok(existsSync(join(out, 'results', 'run1')), 'results kept');
    assert.ok(!existsSync(join(out, 'serve', 'stale.yaml')), 'serve/ replaced');
    const other = join(work, 'docs');
    mkdirSync(other);
    writeFileSync(join(other, 'keep.md'), 'mine');
    const r = rehearse([...args.slice(0, -1), other], work);
    assert.equal(r.code, 2);
    assert.match(r.err, /^error: --out .*docs: the folder exists and was not made by npm run rehearse/);
    assert.equal(readFileSync(join(other, 'keep.md'), 'utf8'), 'mine');
  });

  it('rejects bad settings with one error: line each, before writing anything', () => {
    const work = mkdtempSync(join(tmpdir(), 'rehearse-cmd-'));
    const r = rehearse(['prepare', '--dir', 'relative', '--gpus', '0', '--out', join(work, 'out')], work);
    assert.equal(r.code, 2);
    assert.deepEqual(r.err.trim().split('\n'), ['error: --dir "relative": must be an absolute path on the GPU machine', 'error: --gpus 0: must be a whole number from 1 to 16']);
    assert.ok(!existsSync(join(work, 'out')));
  });
});
