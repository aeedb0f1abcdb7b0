import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * What Ray 2.58's CLIs print, from Ray's own formatting code (ray_fixtures.py), for each Serve application name the
 * tests use: ray-fixtures.json, {app: {file: text}}. Generating it imports Ray (seconds of CPU), so the tests read
 * it, and scripts.test.ts checks it against a fresh run of ray_fixtures.py. Regenerate it with:
 *   .test-venv/bin/python test/serve/ray_fixtures.py --json gptoss-collocated-baseline gptoss-pd-nixl rehearsal-pd-nixl \
 *     > test/serve/ray-fixtures.json
 */
export const RAY_FIXTURES_FILE = join(__dirname, 'ray-fixtures.json');

export type RayFixtures = Record<string, Record<string, string>>;

export function rayFixtures(): RayFixtures {
  return JSON.parse(readFileSync(RAY_FIXTURES_FILE, 'utf8')) as RayFixtures;
}

/** A folder holding one application's files (pg_created.json, serve_status_app.yaml, …), as the stubs `cat` them. */
export function writeRayFixtures(app: string): string {
  const files = rayFixtures()[app];
  if (files === undefined) throw new Error(`${RAY_FIXTURES_FILE} has no application ${app}: regenerate it (see ray-fixtures.ts)`);
  const dir = mkdtempSync(join(tmpdir(), 'ray-fixtures-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}
