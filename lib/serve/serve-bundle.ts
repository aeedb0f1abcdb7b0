import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Stack, Stage, aws_s3_assets as s3_assets } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { ClusterConfig } from '../config/cluster-config';
import { ServeFile, renderServeBundle, writeServeBundle } from './index';

export interface ServeBundleProps {
  readonly config: ClusterConfig;
}

/**
 * The serve bundle (Serve configs, builder.py, benchmark scripts) rendered from the configuration and staged as
 * this construct's own CDK asset, which `cdk deploy` uploads before the stack starts and every node fetches. The
 * files are written under the cloud assembly, in a folder named by their content, so the construct needs nothing
 * from the app and repeated synths of the same configuration produce the same asset.
 */
export class ServeBundle extends Construct {
  readonly files: readonly ServeFile[];
  /** The staged asset: its bucket, key and `s3://` URL are tokens until deploy. */
  readonly asset: s3_assets.Asset;
  /** `arn:<partition>:s3:::<bucket>/<key>` of the asset object, for IAM: nodes may read exactly this object. */
  readonly objectArn: string;
  /** Where the files were written for staging (inside the cloud assembly). */
  readonly directory: string;

  constructor(scope: Construct, id: string, props: ServeBundleProps) {
    super(scope, id);
    this.files = renderServeBundle(props.config);
    const hash = createHash('sha256');
    for (const f of this.files) hash.update(`${f.path}\0${f.executable}\0${f.content}\0`);
    const outdir = Stage.of(this)?.outdir;
    if (outdir === undefined) throw new Error('ServeBundle must be created inside a CDK App or Stage');
    this.directory = join(outdir, '.serve-bundle-source', hash.digest('hex').slice(0, 16));
    rmSync(this.directory, { recursive: true, force: true });
    writeServeBundle(this.directory, this.files);
    this.asset = new s3_assets.Asset(this, 'Asset', { path: this.directory });
    this.objectArn = `arn:${Stack.of(this).partition}:s3:::${this.asset.s3BucketName}/${this.asset.s3ObjectKey}`;
  }
}
