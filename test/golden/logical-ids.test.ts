import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { GENERATION_PLACEHOLDER, GUARDED_RESOURCE_TYPES, guardedLogicalIds } from './guarded-ids';

/**
 * A changed logical id of a stateful or expensive resource means CloudFormation replaces it on the next deploy: a
 * running GPU node terminated, a bucket of results deleted. The committed list changes only deliberately, through
 * `npm run golden`, in a commit that says what it replaces.
 */
describe('logical ids of stateful and expensive resources', () => {
  const committed = JSON.parse(readFileSync(join(__dirname, 'logical-ids.json'), 'utf8')) as Record<string, Record<string, string[]>>;
  const current = guardedLogicalIds();

  for (const shape of Object.keys(committed)) {
    it(`are unchanged for the ${shape} stack (a mismatch replaces deployed resources: run npm run golden only on purpose)`, () => {
      assert.deepEqual(current[shape], committed[shape]);
    });
  }

  it('record the readiness wait and its handle by the node generation their ids end in', () => {
    for (const shape of Object.keys(committed)) {
      assert.deepEqual(committed[shape]['AWS::CloudFormation::WaitCondition'], [`ClusterReady${GENERATION_PLACEHOLDER}`], shape);
      assert.deepEqual(committed[shape]['AWS::CloudFormation::WaitConditionHandle'], [`ReadinessHandle${GENERATION_PLACEHOLDER}`], shape);
    }
  });

  it('cover the instances, launch templates, placement group, bucket, VPC and log groups', () => {
    for (const type of ['AWS::EC2::Instance', 'AWS::EC2::LaunchTemplate', 'AWS::EC2::PlacementGroup', 'AWS::S3::Bucket', 'AWS::EC2::VPC', 'AWS::Logs::LogGroup']) {
      assert.ok((GUARDED_RESOURCE_TYPES as readonly string[]).includes(type), type);
      assert.ok(committed.default[type].length > 0, `${type} in the default stack`);
    }
    assert.deepEqual(Object.keys(current).sort(), Object.keys(committed).sort());
  });
});
