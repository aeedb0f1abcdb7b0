/** The rendered user data: its size, the values it carries, its tokens, and shellcheck on it and the scripts. */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, test } from 'node:test';
import { App, CfnResource, CfnWaitConditionHandle, Fn, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import {
  BOOTSTRAP_ASSET_SCRIPTS, BOOTSTRAP_DEADLINE_MARGIN_SECONDS, BOOTSTRAP_SCRIPTS, BOOTSTRAP_SCRIPTS_DIR, USER_DATA_LIMIT_BYTES,
  bootstrapSettings, embeddedScriptText, nodeFilesStream, portableGzip, renderUserData,
} from '../../lib/bootstrap';
import { SOFTWARE } from '../../lib/catalog/software';
import { context } from './node-harness';

/** Deploy-time values as long as they get: a presigned WaitCondition URL is about 1,000 characters. */
const LONG = {
  bucketName: 'p5raykvcluster-artifactsbucket-a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d',
  signalUrl: `https://cloudformation-waitcondition-us-east-1.s3.amazonaws.com/${'a%3Ab'.repeat(60)}` +
    `?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${'C'.repeat(120)}&X-Amz-Security-Token=${'T'.repeat(400)}` +
    `&X-Amz-Signature=${'f'.repeat(64)}`,
  logGroupName: 'P5RayKvCluster-BootstrapLogGroup0123456789-AbCdEfGhIjKlMnOpQrStUvWxYz0123',
  hfTokenSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:some/long/hugging-face-token-name-AbCdEf',
  serveBundleParameter: `/p5-ray/${'P5RayKvClusterWithALongName'.repeat(4)}/serve-bundle`,
  pythonFilesUrl: `s3://cdk-hnb659fds-assets-123456789012-us-east-1/${'b'.repeat(64)}.zip`,
};
const MARGIN_BYTES = 2_048;

function userDataFor(over: Parameters<typeof context>[0] = {}): string {
  return renderUserData(context({ ...LONG, ...over, raw: { hfTokenSecretName: 'hf', ...over.raw } }));
}

function settingsOf(userData: string): Map<string, string> {
  const env = userData.split("<<'P5RAY_END'\n")[1].split('\nP5RAY_END')[0];
  return new Map(env.split('\n').map((line) => {
    const m = /^([A-Z_]+)='(.*)'$/.exec(line);
    assert.ok(m, line);
    return [m[1], m[2]] as const;
  }));
}

describe('rendered user data', () => {
  test(`fits EC2's 16 KB with ${MARGIN_BYTES} bytes to spare for every role, with long deploy-time values`, () => {
    const sizes = [
      userDataFor(),
      userDataFor({ role: 'head', isRayHead: true, gpuIndex: 0 }),
      userDataFor({ raw: { headInstanceType: 'none' }, isRayHead: true, gpuIndex: 0 }),
    ].map((u) => Buffer.byteLength(u, 'utf8'));
    for (const size of sizes) assert.ok(size <= USER_DATA_LIMIT_BYTES - MARGIN_BYTES, `${size} bytes`);
    console.log(`user data sizes (GPU worker, CPU head, GPU head): ${sizes.join(', ')} bytes of ${USER_DATA_LIMIT_BYTES}`);
  });

  test('carries the configured region, NIXL backend, model, counts from the catalog and pinned versions', () => {
    const s = settingsOf(userDataFor({ raw: { region: 'us-west-2', nixlBackend: 'UCX', gpuNodes: 3 } }));
    assert.equal(s.get('REGION'), 'us-west-2');
    assert.equal(s.get('NIXL_BACKEND'), 'UCX');
    assert.equal(s.get('MODEL'), 'openai/gpt-oss-120b');
    assert.equal(s.get('EXPECTED_GPUS'), '8');
    assert.equal(s.get('EXPECTED_EFA'), '32');
    assert.equal(s.get('CLUSTER_GPUS'), '24');
    assert.equal(s.get('RAY_VERSION'), SOFTWARE.ray);
    assert.equal(s.get('VLLM_VERSION'), SOFTWARE.vllm);
    assert.equal(s.get('NIXL_VERSION'), SOFTWARE.nixl);
    assert.equal(s.get('LMCACHE_VERSION'), SOFTWARE.lmcache);
    assert.equal(s.get('SIGNAL_URL'), LONG.signalUrl);
    assert.equal(s.get('BOOTSTRAP_TIMEOUT_SECONDS'), '5400');
    assert.equal(s.get('DEADLINE_MARGIN_SECONDS'), String(BOOTSTRAP_DEADLINE_MARGIN_SECONDS));
    assert.equal(s.get('NODE_FACTS'), '/etc/p5-ray/node-facts.json');
    assert.equal(s.get('NODE_FACTS_PREFIX'), 'cluster/nodes/');
    assert.equal(s.get('PYTHON_FILES_URL'), LONG.pythonFilesUrl);
    // The serve bundle only by the name of its SSM parameter: a new bundle changes no user data.
    assert.equal(s.get('SERVE_BUNDLE_PARAMETER'), LONG.serveBundleParameter);
    assert.equal([...s.values()].some((v) => v.includes('serve') && v.startsWith('s3://')), false);
    assert.equal(s.get('NODE_GENERATION'), 'a1b2c3d4');
    assert.equal(s.get('HEAD_KEY'), 'cluster/a1b2c3d4/head.json', 'each generation has its own head address');
  });

  test('expects 16 EFA devices on p5en.48xlarge and none on the CPU head', () => {
    assert.equal(settingsOf(userDataFor({ raw: { gpuInstanceType: 'p5en.48xlarge' } })).get('EXPECTED_EFA'), '16');
    const head = settingsOf(userDataFor({ role: 'head', isRayHead: true, gpuIndex: 0 }));
    assert.equal(head.get('EXPECTED_EFA'), '0');
    assert.equal(head.get('EXPECTED_GPUS'), '0');
    assert.equal(head.get('IS_RAY_HEAD'), '1');
  });

  test('embeds the scripts in one gzip stream that unpacks, as the user data does it, byte for byte', () => {
    const userData = userDataFor();
    const blobs = [...userData.matchAll(/base64 -d <<'P5RAY_END' \| gunzip \| awk .*\n([\s\S]*?)\nP5RAY_END/g)];
    assert.equal(blobs.length, 1);
    const gz = Buffer.from(blobs[0][1].replace(/\n/g, ''), 'base64');
    assert.equal(gz[9], 3, 'gzip header OS byte fixed to Unix');
    assert.equal(gunzipSync(gz).toString('utf8'), nodeFilesStream());
    // Run the user data's own unpack line on it.
    const dir = mkdtempSync(join(tmpdir(), 'p5-unpack-'));
    const unpack = userData.split('\n').find((l) => l.startsWith("base64 -d <<'P5RAY_END'"))!;
    execFileSync('bash', ['-c', `set -euo pipefail; R=${dir}; mkdir -p "$R/opt/p5-ray/bin"; ${unpack}\n${blobs[0][1]}\nP5RAY_END`]);
    for (const name of BOOTSTRAP_SCRIPTS) {
      const text = readFileSync(join(dir, 'opt/p5-ray/bin', name), 'utf8');
      assert.equal(text, embeddedScriptText(name));
      assert.doesNotMatch(text, /^\s*#(?!!)/m);
    }
  });

  test('renders identically every time, with a gzip header that does not depend on the platform', () => {
    assert.equal(userDataFor(), userDataFor());
    const sample = Buffer.from(Array.from({ length: 400 }, (_, i) => `line ${i} ${(i * 7919) % 1013}\n`).join(''));
    // zlib on macOS writes OS byte 19 where Linux writes 3: the same synth must give the same user data.
    const macZlib = (d: Buffer) => { const gz = gzipSync(d, { level: 9 }); gz[9] = 19; return gz; };
    const fromMac = portableGzip(sample, macZlib);
    assert.equal(fromMac[9], 3);
    assert.deepEqual(fromMac, portableGzip(sample));
    assert.deepEqual(gunzipSync(fromMac), sample);
    // A zlib that compresses differently would change the user data between machines, and a user-data change
    // stops and starts the GPU nodes. This pins Node's output for a fixed input.
    assert.equal(createHash('sha256').update(portableGzip(sample)).digest('hex').slice(0, 16), '80ade3b07fac3b09');
  });

  test('passes CDK tokens through, so the template joins the WaitCondition handle URL into the user data', () => {
    // What is checked is the user data's join, not the probe template (which CloudFormation validation would load its
    // checker for: seconds of CPU).
    const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'T');
    const handle = new CfnWaitConditionHandle(stack, 'Ready');
    const userData = renderUserData(context({ signalUrl: handle.ref, bucketName: 'b' }));
    new CfnResource(stack, 'Probe', {
      type: 'Custom::Probe', properties: { UserData: Fn.base64(userData) },
    });
    const json = JSON.stringify(Template.fromStack(stack).findResources('Custom::Probe'));
    assert.match(json, /"Fn::Base64":\{"Fn::Join":\[""/);
    assert.match(json, /SIGNAL_URL='",\{"Ref":"Ready"\},"'/);
  });

  test('rejects a context that contradicts the configuration', () => {
    assert.throws(() => renderUserData(context({ gpuIndex: 2 })), /gpuIndex=2 must be 0\.\.1/);
    assert.throws(() => renderUserData(context({ gpuIndex: 0, isRayHead: true })), /isRayHead=true, expected false/);
    assert.throws(() => renderUserData(context({ role: 'head', isRayHead: true, gpuIndex: 0, raw: { headInstanceType: 'none' } })),
      /role=head but headInstanceType=none/);
    assert.throws(() => renderUserData(context({ hfTokenSecretArn: 'arn:x' })), /hfTokenSecretArn/);
  });

  test('quotes values for the shell', () => {
    const s = bootstrapSettings(context({ stackName: "it's" })).find(([k]) => k === 'STACK_NAME');
    assert.deepEqual(s, ['STACK_NAME', "it's"]);
    assert.match(renderUserData(context({ stackName: "it's" })), /^STACK_NAME='it'\\''s'$/m);
  });
});

describe('shellcheck', () => {
  test('is clean on every bootstrap script, embedded or in the asset', () => {
    const files = [...BOOTSTRAP_SCRIPTS, ...BOOTSTRAP_ASSET_SCRIPTS].map((n) => join(BOOTSTRAP_SCRIPTS_DIR, n));
    const r = spawnSync('shellcheck', ['-x', ...files], { cwd: BOOTSTRAP_SCRIPTS_DIR, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  test('is clean on the rendered user data of each role', () => {
    const dir = mkdtempSync(join(tmpdir(), 'p5-ud-'));
    const files = [
      userDataFor(),
      userDataFor({ role: 'head', isRayHead: true, gpuIndex: 0 }),
      userDataFor({ raw: { headInstanceType: 'none' }, isRayHead: true, gpuIndex: 0 }),
    ].map((u, i) => {
      const f = join(dir, `user-data-${i}.sh`);
      writeFileSync(f, u);
      return f;
    });
    const r = spawnSync('shellcheck', files, { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.doesNotThrow(() => execFileSync('bash', ['-n', ...files.slice(0, 1)]));
  });
});
