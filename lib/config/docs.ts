import { SETTINGS, SETTING_KEYS, SettingSpec, defaultText } from './schema';
import { UPDATE_POLICY_TEXT, UpdatePolicy, settingsWithPolicy } from './update-policy';

/** What a setting accepts, in words, from its spec's bounds, choices or shape. */
export function allowedText(spec: SettingSpec): string {
  switch (spec.type) {
    case 'boolean': return 'true, false';
    case 'integer': return `${spec.min}–${spec.max}`;
    case 'number': return `${spec.min}–${spec.max} (decimals allowed)`;
    case 'string': return spec.oneOf ? spec.oneOf.join(', ') : spec.shape ?? 'text';
  }
}

/** The README's settings table, generated from the schema (a test compares the README with it). */
export function settingsTableMarkdown(): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const rows = SETTING_KEYS.map((key) => {
    const spec: SettingSpec = SETTINGS[key];
    const dflt = defaultText(spec);
    return `| \`${key}\`${spec.scope === 'app' ? ' (app)' : ''} | ${spec.type} | ${dflt === undefined ? '(none)' : `\`${cell(dflt)}\``} | ` +
      `${cell(allowedText(spec))} | ${cell(spec.doc)} |`;
  });
  return ['| setting | type | default | allowed | meaning |', '|---|---|---|---|---|', ...rows].join('\n');
}

/** docs/operations.md's table of what a change of each setting does to a deployed cluster, from update-policy.ts. */
export function updatePoliciesMarkdown(): string {
  const rows = (Object.keys(UPDATE_POLICY_TEXT) as UpdatePolicy[]).map((policy) =>
    `| ${UPDATE_POLICY_TEXT[policy]} | ${settingsWithPolicy(policy).map((k) => `\`${k}\``).join(', ')} |`);
  return ['| a change … | of these settings |', '|---|---|', ...rows].join('\n');
}

/** The file the construct's settings props come from (lib/cluster/settings-props.generated.ts). */
export const SETTINGS_PROPS_FILE = 'lib/cluster/settings-props.generated.ts';

/**
 * The TypeScript source of `ClusterSettingsProps`: every `cluster`-scope setting as an optional prop with its doc
 * and `@default`, so the construct's API docs are the schema's. `npm run generate` writes it; a test checks it is
 * current.
 */
export function settingsPropsSource(): string {
  const tsType = (spec: SettingSpec) => (spec.type === 'string' ? (spec.oneOf ? spec.oneOf.map((v) => `'${v}'`).join(' | ') : 'string')
    : spec.type === 'boolean' ? 'boolean' : 'number');
  const props = SETTING_KEYS.filter((key) => SETTINGS[key].scope === 'cluster').map((key) => {
    const spec: SettingSpec = SETTINGS[key];
    const dflt = defaultText(spec);
    const allowed = allowedText(spec);
    return [
      '  /**',
      `   * ${sentence(spec.doc)}`,
      ...(spec.type === 'string' && spec.oneOf ? [] : spec.type === 'boolean' ? [] : [`   * Allowed: ${allowed}.`]),
      `   * @default ${dflt === undefined ? '- none (off)' : spec.type === 'string' && spec.defaultText === undefined ? `'${dflt}'` : dflt}`,
      '   */',
      `  readonly ${key}?: ${tsType(spec)};`,
    ].join('\n');
  });
  return [
    '// Generated from lib/config/schema.ts by `npm run generate`: edit the schema, not this file.',
    '',
    '/** The cluster settings, as props of the P5RayCluster construct. Each is validated in its constructor. */',
    'export interface ClusterSettingsProps {',
    props.join('\n'),
    '}',
    '',
  ].join('\n');
}

function sentence(text: string): string {
  const clean = text.replace(/\*\//g, '*∕');
  return `${clean[0].toUpperCase()}${clean.slice(1)}${clean.endsWith('.') ? '' : '.'}`;
}
