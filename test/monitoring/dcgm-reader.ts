/**
 * dcgm-exporter's own way of reading its counters file, compiled from test/monitoring/dcgm-counters-reader/main.go
 * with the machine's Go toolchain (scripts/setup.sh installs Debian's golang-go): Go's encoding/csv with the settings
 * of NVIDIA/dcgm-exporter@4.5.3-4.8.2, not a re-implementation of its quoting rules.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let binary: string | undefined;

function reader(): string {
  if (binary) return binary;
  const out = join(mkdtempSync(join(tmpdir(), 'dcgm-reader-')), 'dcgm-counters-reader');
  // GOTOOLCHAIN=local: never download another toolchain; GOFLAGS empty: a user's -mod settings do not apply.
  const r = spawnSync('go', ['build', '-o', out, join(__dirname, 'dcgm-counters-reader', 'main.go')],
    { encoding: 'utf8', env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '', CGO_ENABLED: '0' } });
  assert.ok(!r.error, `go not found (scripts/setup.sh installs Debian's golang-go): ${r.error}`);
  assert.equal(r.status, 0, `go build failed: ${r.stderr}`);
  binary = out;
  return out;
}

export interface DcgmRead { readonly ok: boolean; readonly records: string[][]; readonly error: string }

/** The records dcgm-exporter would collect from `csv`, or the error it would exit with. */
export function readLikeDcgmExporter(csv: string): DcgmRead {
  const file = join(mkdtempSync(join(tmpdir(), 'dcgm-csv-')), 'counters.csv');
  writeFileSync(file, csv);
  const r = spawnSync(reader(), [file], { encoding: 'utf8' });
  return r.status === 0
    ? { ok: true, records: JSON.parse(r.stdout) as string[][], error: '' }
    : { ok: false, records: [], error: r.stderr.trim() };
}
