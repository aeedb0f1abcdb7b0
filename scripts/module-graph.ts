/**
 * The folder-level import graph of lib/, for docs/architecture.md: which module folder imports which. Read from
 * the source files' import statements, so the document shows the graph as it stands (a test compares them).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(__dirname, '..');
const lib = join(root, 'lib');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** `lib/x/y.ts` → `x`; `lib/app.ts` → `app`. */
function moduleOf(path: string): string {
  const parts = relative(lib, path).split('/');
  return parts.length === 1 ? parts[0].replace(/\.ts$/, '') : parts[0];
}

/** Module → the lib modules it imports (types included), sorted. */
export function moduleGraph(): Map<string, string[]> {
  const edges = new Map<string, Set<string>>();
  for (const file of sourceFiles(lib)) {
    const from = moduleOf(file);
    if (!edges.has(from)) edges.set(from, new Set());
    const text = readFileSync(file, 'utf8');
    for (const [, spec] of text.matchAll(/^(?:import|export)\s[^;]*?from\s+'(\.[^']*)'/gms)) {
      const target = resolve(dirname(file), spec);
      if (!target.startsWith(`${lib}/`) && target !== lib) continue;
      const to = moduleOf(statExists(`${target}.ts`) ? `${target}.ts` : join(target, 'index.ts'));
      if (to !== from) edges.get(from)!.add(to);
    }
  }
  return new Map([...edges.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, [...v].sort()]));
}

function statExists(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Pairs of modules that import each other, directly. */
export function moduleCycles(): Array<[string, string]> {
  const graph = moduleGraph();
  return [...graph].flatMap(([from, to]) => to.filter((t) => t > from && (graph.get(t) ?? []).includes(from)).map((t): [string, string] => [from, t]));
}

/** The graph as a Markdown table: one row per module, what it imports. */
export function moduleGraphMarkdown(): string {
  const rows = [...moduleGraph().entries()].map(([from, to]) => `| \`${from}\` | ${to.length ? to.map((t) => `\`${t}\``).join(', ') : '—'} |`);
  return ['| module (lib/…) | imports |', '|---|---|', ...rows].join('\n');
}
