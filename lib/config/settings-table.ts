import { CONFIG_KEYS } from './cluster-config';

/** The README's settings table, generated from CONFIG_KEYS so the two cannot drift (a test compares them). */
export function settingsTableMarkdown(): string {
  const rows = Object.entries(CONFIG_KEYS).map(([key, spec]) =>
    `| \`${key}\` | ${spec.kind} | ${spec.defaultText === undefined ? '(none)' : `\`${spec.defaultText}\``} | ${spec.doc.replace(/\|/g, '\\|')} |`);
  return ['| setting | type | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
