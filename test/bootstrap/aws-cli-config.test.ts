/**
 * The AWS CLI configs the deploy cache runs the AWS CLI with (deploy_cache.py AWS_CONFIGS), read by the AWS CLI's own
 * config loader and checked against its s3 transfer rules (aws_cli_config_check.py): restores with the CRT transfer
 * client, uploads with the classic one, which is the one that honours max_bandwidth.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { checkAwsCliConfigs } from '../helpers/consumer-checks';

const REPO = join(__dirname, '..', '..');

function awsConfigs(): Record<string, string> {
  const r = spawnSync(join(REPO, '.test-venv', 'bin', 'python'), ['-c', 'import json, sys; sys.path.insert(0, sys.argv[1]); import deploy_cache as d; ' +
    'print(json.dumps({p: d.aws_config_text(p) for p in d.AWS_CONFIGS}))', join(REPO, 'lib', 'bootstrap', 'python')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, string>;
}

function runtime(text: string): Record<string, unknown> {
  const file = join(mkdtempSync(join(tmpdir(), 'p5-aws-config-')), 'config');
  writeFileSync(file, text);
  const r = spawnSync(join(REPO, '.test-venv', 'bin', 'python'), [join(__dirname, 'aws_cli_config_check.py'), file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const [verdict] = JSON.parse(r.stdout) as Array<{ s3: Record<string, string>; runtime: Record<string, unknown> }>;
  return { ...verdict.s3, ...verdict.runtime };
}

describe('the deploy cache\'s AWS CLI configs, as the AWS CLI reads them', () => {
  test('parse with the AWS CLI\'s loader, and set nothing their transfer client ignores', () => {
    const configs = awsConfigs();
    assert.deepEqual(Object.keys(configs).sort(), ['restore', 'upload']);
    assert.deepEqual(checkAwsCliConfigs(configs), { restore: [], upload: [] });
  });

  test('uploads: the classic client, 8 concurrent requests, at most 250 MiB/s per process; restores: CRT, uncapped', () => {
    const configs = awsConfigs();
    assert.deepEqual(runtime(configs.upload), { preferred_transfer_client: 'classic', max_concurrent_requests: 8, max_bandwidth: 250 * 1024 * 1024 });
    assert.deepEqual(runtime(configs.restore), { preferred_transfer_client: 'crt' });
  });

  test('refuses a cap the chosen client ignores, and a rate the AWS CLI cannot read', () => {
    const s3 = (lines: string[]) => `[default]\ns3 =\n${lines.map((l) => `    ${l}\n`).join('')}`;
    assert.deepEqual(checkAwsCliConfigs({
      crtCap: s3(['preferred_transfer_client = crt', 'max_bandwidth = 250MB/s']),
      classicTarget: s3(['preferred_transfer_client = classic', 'target_bandwidth = 2Gb/s']),
      badRate: s3(['preferred_transfer_client = classic', 'max_bandwidth = fast']),
      typo: s3(['preferred_transfer_client = crt', 'target_bandwith = 2Gb/s']),
    }), {
      crtCap: ['max_bandwidth: ignored by the crt transfer client'],
      classicTarget: ['target_bandwidth: ignored by the classic transfer client'],
      badRate: ['Invalid rate: fast. The value must be expressed as a rate in terms of bytes per seconds (e.g. 10MB/s or 800KB/s)'],
      typo: ['target_bandwith: not an s3 setting of AWS CLI v2'],
    });
  });
});
