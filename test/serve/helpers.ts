import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { parse } from 'yaml';
import { parseClusterConfig, RawConfig } from '../../lib/config/cluster-config';
import { renderServeBundle, ServeFile, writeServeBundle } from '../../lib/serve';

export function bundleFor(raw: RawConfig = {}): ServeFile[] {
  return renderServeBundle(parseClusterConfig(raw));
}

export function writeBundle(raw: RawConfig = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'serve-bundle-'));
  writeServeBundle(dir, bundleFor(raw));
  return dir;
}

export function file(files: readonly ServeFile[], path: string): ServeFile {
  const found = files.find((f) => f.path === path);
  if (!found) throw new Error(`bundle has no ${path}; it has ${files.map((f) => f.path).join(', ')}`);
  return found;
}

export type Json = any;

export function yamlOf(files: readonly ServeFile[], path: string): Json {
  return parse(file(files, path).content);
}

/** The reference example's four configurations, and the fifth that only the full-cluster profile adds. */
export const REFERENCE_IDS = ['collocated_baseline', 'collocated_lmcache', 'pd_nixl', 'pd_multiconnector'];
export const ALL_IDS = [...REFERENCE_IDS, 'pd_prefill_lmcache'];

/** Every Serve file of the given configurations: one per request router. */
export const yamlFiles = (ids: readonly string[]): string[] => ids.flatMap((id) => [`${id}.yaml`, `${id}.prefix-aware.yaml`]);

/** The Serve files of the default (full-cluster) profile. */
export const YAML_FILES = yamlFiles(ALL_IDS);

/** Every LLM config of a Serve file, by role. */
export function llmConfigs(doc: Json): Record<string, Json> {
  const args = doc.applications[0].args;
  return Object.fromEntries(['llm_config', 'prefill_config', 'decode_config'].filter((r) => r in args).map((r) => [r, args[r]]));
}

/** Every kv_transfer_config in a document, sub-connectors of a MultiConnector included. */
export function kvTransferConfigs(doc: Json): Json[] {
  const found: Json[] = [];
  const visit = (kv: Json): void => {
    found.push(kv);
    for (const sub of kv?.kv_connector_extra_config?.connectors ?? []) visit(sub);
  };
  for (const cfg of Object.values(llmConfigs(doc))) {
    if (cfg.engine_kwargs.kv_transfer_config !== undefined) visit(cfg.engine_kwargs.kv_transfer_config);
  }
  return found;
}
