/**
 * Grafana's rules for the provisioning files and dashboards we generate, transcribed from Grafana's provisioning
 * reader (grafana/grafana pkg/services/provisioning; read in the newest stored copy, the one whose datasource schema
 * carries `uid` and `correlations`, as 13.x does: Grafana's repository is too large to fetch whole at the v13.2.3 tag):
 * - datasources/types.go configsV1 + upsertDataSourceFromConfigV1: the keys and their types;
 *   config_reader.go: apiVersion, at most one isDefault per orgId, access `proxy` or `direct` (anything else is
 *   replaced by proxy with a warning);
 * - dashboards/types.go configV1 + configs: the provider keys and types; config_reader.go: unique provider names,
 *   type `file` by default; file_reader.go: a `file` provider reads options.path;
 * - a dashboard file: a JSON object with a non-empty title (models.ErrDashboardTitleEmpty) and a uid of at most 40
 *   of [a-zA-Z0-9_-] (util.IsValidShortUID, IsShortUIDTooLong).
 * Grafana's YAML decoding ignores unknown keys; here an unknown key is an error, since Grafana would silently drop it.
 */
import { parse } from 'yaml';
import { Problems } from './consumer-checks';

type Kind = 'string' | 'int' | 'bool' | 'map' | 'list';
const DATASOURCE_KEYS: Readonly<Record<string, Kind>> = {
  orgId: 'int', version: 'int', name: 'string', type: 'string', access: 'string', url: 'string', user: 'string',
  database: 'string', basicAuth: 'bool', basicAuthUser: 'string', withCredentials: 'bool', isDefault: 'bool',
  correlations: 'list', jsonData: 'map', secureJsonData: 'map', editable: 'bool', uid: 'string',
};
const PROVIDER_KEYS: Readonly<Record<string, Kind>> = {
  name: 'string', type: 'string', orgId: 'int', folder: 'string', folderUid: 'string', editable: 'bool', options: 'map',
  disableDeletion: 'bool', updateIntervalSeconds: 'int', allowUiUpdates: 'bool',
};
/** dashboards/file_reader.go: the options a `file` provider reads. */
const FILE_PROVIDER_OPTIONS: Readonly<Record<string, Kind>> = { path: 'string', foldersFromFilesStructure: 'bool' };

function is(value: unknown, kind: Kind): boolean {
  switch (kind) {
    case 'string': return typeof value === 'string' || typeof value === 'number';
    case 'int': return Number.isInteger(value);
    case 'bool': return typeof value === 'boolean';
    case 'map': return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'list': return Array.isArray(value);
  }
}

function keysProblems(where: string, obj: Record<string, unknown>, schema: Readonly<Record<string, Kind>>): Problems {
  return Object.entries(obj).flatMap(([k, v]) => (!(k in schema) ? [`${where}.${k}: not a key Grafana reads`]
    : is(v, schema[k]) ? [] : [`${where}.${k}: ${JSON.stringify(v)} is not a ${schema[k]}`]));
}

function document(text: string, top: Readonly<Record<string, Kind>>): { doc: Record<string, unknown>; problems: Problems } {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    return { doc: {}, problems: [`not YAML: ${(e as Error).message}`] };
  }
  if (!is(doc, 'map')) return { doc: {}, problems: ['not a YAML mapping'] };
  const d = doc as Record<string, unknown>;
  const problems = keysProblems('', d, { apiVersion: 'int', ...top });
  if (d.apiVersion !== 1) problems.push(`apiVersion is ${JSON.stringify(d.apiVersion)}: the v1 schema needs apiVersion: 1`);
  return { doc: d, problems };
}

export function checkGrafanaDatasources(text: string): Problems {
  const { doc, problems } = document(text, { datasources: 'list', deleteDatasources: 'list' });
  const defaults = new Map<number, number>();
  for (const [i, ds] of ((doc.datasources ?? []) as unknown[]).entries()) {
    if (!is(ds, 'map')) { problems.push(`datasources[${i}]: not a mapping`); continue; }
    const d = ds as Record<string, unknown>;
    problems.push(...keysProblems(`datasources[${i}]`, d, DATASOURCE_KEYS));
    if (typeof d.name !== 'string' || d.name === '') problems.push(`datasources[${i}].name: required`);
    if (typeof d.type !== 'string' || d.type === '') problems.push(`datasources[${i}].type: required`);
    if (d.access !== undefined && d.access !== 'proxy' && d.access !== 'direct') problems.push(`datasources[${i}].access: ${JSON.stringify(d.access)} is neither proxy nor direct`);
    if (d.isDefault === true) {
      const org = (d.orgId as number | undefined) ?? 1;
      defaults.set(org, (defaults.get(org) ?? 0) + 1);
      if (defaults.get(org) === 2) problems.push(`more than one default datasource in org ${org} (ErrInvalidConfigToManyDefault)`);
    }
  }
  return problems;
}

export function checkGrafanaDashboardProviders(text: string): Problems {
  const { doc, problems } = document(text, { providers: 'list' });
  const names = new Set<string>();
  for (const [i, p] of ((doc.providers ?? []) as unknown[]).entries()) {
    if (!is(p, 'map')) { problems.push(`providers[${i}]: not a mapping`); continue; }
    const d = p as Record<string, unknown>;
    problems.push(...keysProblems(`providers[${i}]`, d, PROVIDER_KEYS));
    if (names.has(String(d.name))) problems.push(`providers[${i}].name: dashboard name ${JSON.stringify(d.name)} is not unique`);
    names.add(String(d.name));
    if ((d.type ?? 'file') === 'file') {
      const options = (d.options ?? {}) as Record<string, unknown>;
      problems.push(...keysProblems(`providers[${i}].options`, options, FILE_PROVIDER_OPTIONS));
      if (typeof options.path !== 'string' || !options.path.startsWith('/')) problems.push(`providers[${i}].options.path: a file provider needs an absolute path`);
    }
  }
  return problems;
}

export function checkGrafanaDashboard(text: string): Problems {
  let d: unknown;
  try {
    d = JSON.parse(text);
  } catch (e) {
    return [`not JSON: ${(e as Error).message}`];
  }
  if (!is(d, 'map')) return ['not a JSON object'];
  const dash = d as Record<string, unknown>;
  const problems: Problems = [];
  if (typeof dash.title !== 'string' || dash.title.trim() === '') problems.push('title: empty (ErrDashboardTitleEmpty)');
  if (dash.uid !== undefined && !(typeof dash.uid === 'string' && /^[a-zA-Z0-9_-]{1,40}$/.test(dash.uid))) {
    problems.push(`uid: ${JSON.stringify(dash.uid)} is not 1–40 of [a-zA-Z0-9_-]`);
  }
  return problems;
}
