import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  IPolicyValidationContext, IPolicyValidationPlugin, PolicyValidationPluginReport, Validations,
} from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * The repository root: package.json's `config.cacheDir` is relative to it. This app's plugin, run from lib/ only (the
 * construct package does not ship it: a consumer's app adds cdk-nag itself).
 */
const PROJECT_ROOT = join(__dirname, '..', '..');

/** What runs the real checks; cdk-nag's AwsSolutionsChecks by default. */
export type NagPackFactory = () => IPolicyValidationPlugin;

export interface CachedNagChecksProps {
  /** Use and fill the cache; false runs the pack every time. @default true */
  readonly cache?: boolean;
  /** Folder for cached verdicts. @default `<config.cacheDir of package.json>/nag` in the project */
  readonly cacheDir?: string;
  /** @default cdk-nag's AwsSolutionsChecks */
  readonly pack?: NagPackFactory;
  /** Part of the cache key: the rule pack's version. @default cdk-nag's package version */
  readonly packVersion?: string;
}

/**
 * cdk-nag's AwsSolutions pack, run on every synth, with its verdict cached. A verdict depends on nothing but the
 * synthesized resources and the acknowledgements in the construct tree (cdk-nag reports construct paths, not
 * file paths), so it is keyed on exactly those: the bytes of every template, every construct path, every
 * acknowledgement with its reason, and the pack's name and version. Any change is a miss and a full run. A hit skips loading and running
 * the pack, about 0.8 s of a 2.8 s synth here; `-c nagCache=false` turns the cache off.
 */
export class CachedNagChecks implements IPolicyValidationPlugin {
  readonly name = 'AwsSolutions';
  /** How the last `validate` was answered: for tests and the synth log. */
  lastOutcome: 'hit' | 'miss' | undefined;
  private readonly cacheDir: string;

  constructor(private readonly app: IConstruct, private readonly props: CachedNagChecksProps = {}) {
    // In the project, not a shared temp folder, where another user could plant a passing verdict.
    this.cacheDir = props.cacheDir ?? join(PROJECT_ROOT, readJson<{ config: { cacheDir: string } }>(join(PROJECT_ROOT, 'package.json')).config.cacheDir, 'nag');
  }

  validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    if (this.props.cache === false) {
      this.lastOutcome = 'miss';
      return this.createPack().validate(context);
    }
    const file = join(this.cacheDir, `${this.key(context)}.json`);
    try {
      const cached = JSON.parse(readFileSync(file, 'utf8')) as PolicyValidationPluginReport;
      this.lastOutcome = 'hit';
      return cached;
    } catch {
      // No verdict for this exact input yet (or an unreadable one): run the pack.
    }
    const report = this.createPack().validate(context);
    this.lastOutcome = 'miss';
    mkdirSync(this.cacheDir, { recursive: true, mode: 0o700 });
    // Write-then-rename, so a concurrent synth never reads half a verdict.
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, JSON.stringify(report));
    renameSync(partial, file);
    return report;
  }

  private createPack(): IPolicyValidationPlugin {
    if (this.props.pack) return this.props.pack();
    // Loaded only on a miss: loading the pack is a quarter of its cost.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only on a cache miss
    const { AwsSolutionsChecks } = require('cdk-nag') as typeof import('cdk-nag');
    return new AwsSolutionsChecks(this.app);
  }

  private key(context: IPolicyValidationContext): string {
    const hash = createHash('sha256');
    const version = this.props.packVersion ?? readJson<{ version: string }>(require.resolve('cdk-nag/package.json')).version;
    hash.update(`${this.name}@${version}\n`);
    for (const path of [...context.templatePaths].sort()) {
      hash.update(`template ${basename(path)}\n`).update(readFileSync(path)).update('\n');
    }
    // Every construct path too: acknowledgements apply to a construct's descendants, so moving a resource under
    // another parent can change the verdict even where the template (without path metadata) does not change.
    for (const construct of this.app.node.findAll()) {
      hash.update(`node ${construct.node.path}\n`);
      for (const entry of construct.node.metadata) {
        if (entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY) {
          hash.update(`ack ${construct.node.path} ${JSON.stringify(entry.data)}\n`);
        }
      }
    }
    return hash.digest('hex');
  }
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}
