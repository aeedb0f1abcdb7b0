import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SOFTWARE } from '../../lib/catalog/software';

/** The `requires` array of a pyproject.toml [build-system] table (one quoted requirement per line, as LMCache writes it). */
function buildRequires(toml: string): string[] {
  const table = toml.slice(toml.indexOf('[build-system]'));
  const list = /requires\s*=\s*\[([^\]]*)\]/.exec(table);
  if (list === null) throw new Error('no requires = [...] in [build-system]');
  return [...list[1].matchAll(/"([^"]+)"/g)].map((m) => m[1]);
}

describe('software manifest', () => {
  test("provides every build requirement of the pinned LMCache sdist but torch, which the build takes from the venv", () => {
    const fixture = readFileSync(join(__dirname, 'fixtures', `lmcache-${SOFTWARE.lmcache}-build-system.toml`), 'utf8');
    const upstream = buildRequires(fixture);
    assert.ok(upstream.some((r) => r.startsWith('torch')), 'the sdist pins a torch of its own, which --no-build-isolation ignores');
    assert.deepEqual([...SOFTWARE.lmcacheBuildRequires].sort(), upstream.filter((r) => !/^torch\b/.test(r)).sort());
  });
});
