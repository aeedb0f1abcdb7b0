import { Document, isMap, parseDocument } from 'yaml';
import { UsageError } from '../cli/command-line';

/**
 * Sets settings in a cluster YAML (the file the app reads with `-c config=cluster.yaml`), keeping the user's other
 * keys and comments. `existing` is the file's text, or undefined for a new file.
 */
export function withSettings(existing: string | undefined, path: string, settings: Readonly<Record<string, string | number | boolean>>): string {
  let doc: Document;
  if (existing === undefined || existing.trim() === '') {
    doc = new Document({});
    doc.commentBefore = ' Cluster settings for `npx cdk deploy -c config=<this file>` (see the Settings table in README.md).';
  } else {
    doc = parseDocument(existing);
    if (doc.errors.length > 0) throw new UsageError(`cannot update ${path}: not valid YAML (${doc.errors[0].message.split('\n')[0]})`);
    if (!isMap(doc.contents)) throw new UsageError(`cannot update ${path}: it must hold a YAML mapping of settings`);
  }
  for (const [key, value] of Object.entries(settings)) doc.set(key, value);
  return doc.toString();
}
