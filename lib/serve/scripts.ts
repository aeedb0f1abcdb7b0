import { readFileSync } from 'fs';
import { join } from 'path';

/** builder.py, run_bm.sh and run_all.sh live as real files in ./assets so shellcheck and editors see them whole. */
export const ASSETS_DIR = join(__dirname, 'assets');

const PLACEHOLDER = /@@([A-Z_]+)@@/g;
/** Values land inside double-quoted shell words and help text; these characters cannot break out of them. */
const SAFE_VALUE = /^[\w .,:/@+()'=-]*$/;

/**
 * Fills an asset's `@@NAME@@` placeholders. Every placeholder must have a value and every value must be used, so a
 * renamed placeholder fails the synth instead of shipping a script with a literal `@@…@@` in it.
 */
export function renderAsset(name: string, values: Readonly<Record<string, string | number>>): string {
  const template = readFileSync(join(ASSETS_DIR, name), 'utf8');
  const used = new Set<string>();
  const missing = new Set<string>();
  const text = template.replace(PLACEHOLDER, (_, key: string) => {
    if (!Object.prototype.hasOwnProperty.call(values, key)) {
      missing.add(key);
      return '';
    }
    used.add(key);
    return String(values[key]);
  });
  if (missing.size > 0) throw new Error(`${name}: no value for ${[...missing].join(', ')}`);
  const unused = Object.keys(values).filter((k) => !used.has(k));
  if (unused.length > 0) throw new Error(`${name}: placeholders ${unused.join(', ')} do not occur`);
  for (const [key, value] of Object.entries(values)) {
    const lines = String(value).split('\n');
    if (!lines.every((line) => SAFE_VALUE.test(line))) throw new Error(`${name}: unsafe value for ${key}: ${JSON.stringify(value)}`);
  }
  return text;
}
