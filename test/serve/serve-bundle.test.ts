import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { App, Stack } from 'aws-cdk-lib';
import { parseClusterConfig } from '../../lib/config/cluster-config';
import { ServeBundle } from '../../lib/serve/serve-bundle';

describe('ServeBundle', () => {
  const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'Bundle', { env: { region: 'us-east-1' } });
  const bundle = new ServeBundle(stack, 'ServeBundle', { config: parseClusterConfig({ servedModelName: 'probe-model' }) });

  it('renders the bundle from the configuration and writes it inside the cloud assembly, executables executable', () => {
    assert.ok(bundle.directory.startsWith((stack.node.root as App).outdir), bundle.directory);
    for (const file of bundle.files) {
      const path = join(bundle.directory, file.path);
      assert.equal(readFileSync(path, 'utf8'), file.content);
      assert.equal((statSync(path).mode & 0o111) !== 0, file.executable, file.path);
    }
    assert.ok(readFileSync(join(bundle.directory, 'pd_nixl.yaml'), 'utf8').includes('probe-model'));
  });

  it('stages the files as an asset whose object the nodes may read by exact ARN', () => {
    assert.match(bundle.asset.assetHash, /^[0-9a-f]{64}$/);
    assert.ok(bundle.objectArn.endsWith(`:s3:::${bundle.asset.s3BucketName}/${bundle.asset.assetHash}.zip`), bundle.objectArn);
    assert.ok(existsSync(bundle.directory));
  });

  it('is the same asset for the same configuration, and a new one when it changes', () => {
    const hashOf = (raw: Record<string, unknown>) => {
      const s = new Stack(new App({ builtinCloudFormationValidation: false }), 'B', { env: { region: 'us-east-1' } });
      return new ServeBundle(s, 'ServeBundle', { config: parseClusterConfig(raw) }).asset.assetHash;
    };
    assert.equal(hashOf({}), hashOf({}));
    assert.notEqual(hashOf({}), hashOf({ maxModelLen: 20000 }));
  });
});
