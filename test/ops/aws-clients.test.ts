import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { AwsCallError, AwsClients, describeAwsFailure } from '../../lib/cli/aws';

describe('the SDK clients of the commands', () => {
  it('address S3 by path whenever an endpoint is configured (a local endpoint has no <bucket>.host DNS)', async () => {
    const pathStyle = async (clients: AwsClients) => {
      try {
        return (clients.s3.config as unknown as { forcePathStyle?: boolean }).forcePathStyle;
      } finally {
        clients.destroy();
      }
    };
    assert.equal(await pathStyle(new AwsClients('us-east-1', { endpoint: 'http://localhost:4566', env: {} })), true);
    assert.equal(await pathStyle(new AwsClients('us-east-1', { env: { AWS_ENDPOINT_URL: 'http://localhost:4566' } })), true);
    assert.equal(await pathStyle(new AwsClients('us-east-1', { env: { AWS_ENDPOINT_URL_S3: 'http://minio:9000' } })), true);
    assert.equal(await pathStyle(new AwsClients('us-east-1', { env: {} })), false);
  });

  it('turns each kind of AWS failure into one line naming what to do', () => {
    const line = (error: unknown) => describeAwsFailure(new AwsCallError('ec2:DescribeInstances', 'us-east-2', error));
    assert.match(line(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' })),
      /^no AWS credentials found: set AWS_PROFILE .* then run `npm run preflight`/);
    assert.match(line(Object.assign(new Error('The security token included in the request is expired'), { name: 'ExpiredToken' })),
      /^AWS rejected the credentials \(ExpiredToken: The security token included in the request is expired\)/);
    assert.match(line(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })),
      /^cannot reach the AWS API for us-east-2 \(ECONNREFUSED\); check the network, a proxy, or AWS_ENDPOINT_URL$/);
    assert.match(line(Object.assign(new Error('You are not authorized'), { name: 'UnauthorizedOperation' })),
      /^not authorized to call ec2:DescribeInstances in us-east-2 \(UnauthorizedOperation\)/);
    assert.equal(line(Object.assign(new Error('Throttled\nsecond line'), { name: 'RequestLimitExceeded' })),
      'AWS answered RequestLimitExceeded to ec2:DescribeInstances in us-east-2: Throttled');
  });
});
