import { strict as assert } from 'node:assert';
import { after, describe, it } from 'node:test';
import { parseClusterConfig } from '../../lib/config/cluster-config';
import { CheckResult, createAwsClients, destroyAwsClients, exitCodeFor, formatPreflightReport, liveAccount, runPreflight } from '../../lib/preflight';
import { FakeAccount, FakeEndpoint, FakeReservation, defaultAccount, startFakeAws } from './fake-aws-endpoint';

const NOW = new Date('2026-11-24T12:00:00Z');
const HOUR = 3_600_000;
const endpoints: FakeEndpoint[] = [];
after(async () => { await Promise.all(endpoints.map((e) => e.close())); });

/** The whole path a user's run takes, real SDK clients included, against a fake account. */
async function preflight(account: FakeAccount, settings: Record<string, unknown> = {}) {
  const endpoint = await startFakeAws(account);
  endpoints.push(endpoint);
  const config = parseClusterConfig(settings);
  const clients = createAwsClients({
    region: config.region, endpoint: endpoint.url, credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' },
  });
  try {
    const results = await runPreflight({ config, account: liveAccount(clients, config.region), now: NOW });
    return { results, report: formatPreflightReport(config, results), exitCode: exitCodeFor(results), actions: endpoint.actions };
  } finally {
    destroyAwsClients(clients);
  }
}

function named(results: readonly CheckResult[], name: string): CheckResult {
  const found = results.find((r) => r.name === name);
  assert.ok(found, `a "${name}" line in ${results.map((r) => r.name).join(', ')}`);
  return found;
}

function withReservation(reservation: Partial<FakeReservation>): FakeAccount {
  return {
    ...defaultAccount(),
    reservations: [{
      id: 'cr-0123456789abcdef0', instanceType: 'p5.48xlarge', availabilityZone: 'us-east-1a', total: 2, available: 2,
      state: 'active', reservationType: 'default', ...reservation,
    }],
  };
}

describe('preflight against a fake AWS endpoint', () => {
  it('passes every check for the default configuration, naming region and source on each line', async () => {
    const { results, report, exitCode } = await preflight(defaultAccount());
    assert.deepEqual(results.map((r) => [r.name, r.status]), [
      ['GPU instance type', 'pass'], ['head instance type', 'pass'],
      ['GPU type offered in AZ', 'pass'], ['head type offered in AZ', 'pass'],
      ['GPU vCPU quota', 'pass'], ['head vCPU quota', 'pass'],
    ]);
    assert.equal(exitCode, 0);
    assert.match(report, /^PASS {2}GPU instance type .*\[us-east-1\] p5\.48xlarge: EFA supported, 32 EFA interfaces, 32 network cards, 192 vCPUs.*\(live: DescribeInstanceTypes vs catalog\)$/m);
    assert.match(named(results, 'GPU vCPU quota').detail, /L-417A185B .* 384 vCPUs, covering 2 × p5\.48xlarge × 192 vCPUs = 384/);
    assert.match(report, /6 passed, 0 warnings, 0 failed/);
  });

  it('fails when the live EFA interface count differs from the catalog, naming both values', async () => {
    const account = defaultAccount();
    const { results, exitCode } = await preflight({
      ...account, instanceTypes: { ...account.instanceTypes, 'p5.48xlarge': { vcpus: 192, efaSupported: true, maxEfaInterfaces: 16, networkCards: 32 } },
    });
    const line = named(results, 'GPU instance type');
    assert.equal(line.status, 'fail');
    assert.match(line.detail, /maximum EFA interfaces: catalog 32, live 16/);
    assert.doesNotMatch(line.detail, /network cards:/, 'only the differing facts are named');
    assert.equal(exitCode, 1);
  });

  it('fails a GPU type not offered in the chosen AZ and lists the AZs that offer it', async () => {
    const account = defaultAccount();
    const { results } = await preflight({ ...account, offerings: { ...account.offerings, 'p5.48xlarge': ['us-east-1d', 'us-east-1f'] } });
    const line = named(results, 'GPU type offered in AZ');
    assert.equal(line.status, 'fail');
    assert.match(line.detail, /not offered in us-east-1a; zones of us-east-1 that offer it: us-east-1d, us-east-1f/);
    assert.equal(line.source, 'live: DescribeInstanceTypeOfferings');
  });

  it('passes a matching active On-Demand Capacity Reservation', async () => {
    const { results, exitCode } = await preflight(withReservation({}), { capacityReservationId: 'cr-0123456789abcdef0' });
    assert.equal(named(results, 'capacity reservation').status, 'pass');
    assert.equal(named(results, 'reservation kind').status, 'pass');
    assert.equal(results.find((r) => r.name === 'capacity block window'), undefined, 'an ODCR has no block window');
    assert.equal(exitCode, 0);
  });

  it('fails a reservation in another AZ, naming both AZs and the fix', async () => {
    const { results } = await preflight(withReservation({ availabilityZone: 'us-east-1b' }), { capacityReservationId: 'cr-0123456789abcdef0' });
    const line = named(results, 'capacity reservation');
    assert.equal(line.status, 'fail');
    assert.match(line.detail, /availability zone: reservation us-east-1b, config availabilityZone=us-east-1a \(set availabilityZone=us-east-1b\)/);
  });

  it('fails a reservation that is missing, or too small for gpuNodes', async () => {
    const missing = await preflight(defaultAccount(), { capacityReservationId: 'cr-0123456789abcdef0' });
    assert.match(named(missing.results, 'capacity reservation').detail, /cr-0123456789abcdef0 not found in us-east-1/);
    assert.equal(missing.results.filter((r) => r.status === 'fail').length, 1, 'one failure, not one per reservation rule');
    const small = await preflight(withReservation({ available: 1 }), { capacityReservationId: 'cr-0123456789abcdef0' });
    assert.match(named(small.results, 'capacity reservation').detail, /1 instance available, config gpuNodes=2/);
  });

  it('fails capacityBlock=true on an On-Demand Capacity Reservation, and the reverse', async () => {
    const odcr = await preflight(withReservation({}), { capacityReservationId: 'cr-0123456789abcdef0', capacityBlock: true });
    const line = named(odcr.results, 'reservation kind');
    assert.equal(line.status, 'fail');
    assert.match(line.detail, /not a Capacity Block, but capacityBlock=true: set capacityBlock=false/);
    const block = await preflight(withReservation({ reservationType: 'capacity-block', endDate: new Date(NOW.getTime() + 48 * HOUR) }),
      { capacityReservationId: 'cr-0123456789abcdef0' });
    assert.match(named(block.results, 'reservation kind').detail, /is a Capacity Block .* set capacityBlock=true/);
  });

  it('fails a Capacity Block that ends before the nodes can finish bootstrapping', async () => {
    // Ends in 100 min: AWS terminates at +70 min, before now + bootstrapTimeoutMinutes=90.
    const { results, exitCode } = await preflight(
      withReservation({ reservationType: 'capacity-block', endDate: new Date(NOW.getTime() + 100 * 60_000) }),
      { capacityReservationId: 'cr-0123456789abcdef0', capacityBlock: true });
    const line = named(results, 'capacity block window');
    assert.equal(line.status, 'fail');
    assert.match(line.detail, /terminates its instances from 2026-11-24T13:10Z, before the nodes are sure to be ready/);
    assert.equal(exitCode, 1);
  });

  it('warns when a Capacity Block ends before maxHours would stop the nodes', async () => {
    // Ends in 5 h: terminates at +4.5 h; ready by +1.5 h; maxHours=8 would run to +9.5 h.
    const { results, exitCode } = await preflight(
      withReservation({ reservationType: 'capacity-block', endDate: new Date(NOW.getTime() + 5 * HOUR) }),
      { capacityReservationId: 'cr-0123456789abcdef0', capacityBlock: true });
    const line = named(results, 'capacity block window');
    assert.equal(line.status, 'warn');
    assert.match(line.detail, /3\.0 h after the latest ready time; maxHours=8 .*\(lower maxHours to 3 /);
    assert.equal(exitCode, 0, 'warnings do not fail the preflight');
  });

  it('fails a Capacity Block that has not started yet, naming its start: the launch would roll the stack back', async () => {
    const start = new Date(NOW.getTime() + 24 * HOUR);
    const { results, exitCode } = await preflight(withReservation({
      reservationType: 'capacity-block', state: 'scheduled', available: 0, startDate: start, endDate: new Date(start.getTime() + 24 * HOUR),
    }), { capacityReservationId: 'cr-0123456789abcdef0', capacityBlock: true });
    const line = named(results, 'capacity reservation');
    assert.equal(line.status, 'fail');
    assert.match(line.detail, /state scheduled, starts 2026-11-25T12:00Z: the Capacity Block has not started .* deploy after the start \(2026-11-25T12:00Z\)/);
    assert.equal(named(results, 'capacity block window').status, 'pass', 'the window itself is long enough');
    assert.equal(exitCode, 1);
  });

  it('fails an ODCR made in a placement group when placementGroupName is unset or names another group', async () => {
    const arn = 'arn:aws:ec2:us-east-1:123456789012:placement-group/odcr-group';
    const unset = await preflight(withReservation({ placementGroupArn: arn }), { capacityReservationId: 'cr-0123456789abcdef0' });
    const line = named(unset.results, 'capacity reservation');
    assert.equal(line.status, 'fail');
    assert.match(line.detail, /created in cluster placement group odcr-group \(arn:aws:ec2:us-east-1:123456789012:placement-group\/odcr-group\) .* placementGroupName is unset, .* set placementGroupName=odcr-group/);
    assert.equal(unset.exitCode, 1);
    const other = await preflight(withReservation({ placementGroupArn: arn }),
      { capacityReservationId: 'cr-0123456789abcdef0', placementGroupName: 'mine' });
    assert.match(named(other.results, 'capacity reservation').detail, /reservation odcr-group .* config placementGroupName=mine \(set placementGroupName=odcr-group\)/);
    const same = await preflight(withReservation({ placementGroupArn: arn }),
      { capacityReservationId: 'cr-0123456789abcdef0', placementGroupName: 'odcr-group' });
    const ok = named(same.results, 'capacity reservation');
    assert.equal(ok.status, 'pass');
    assert.match(ok.detail, /in placement group odcr-group$/);
  });

  it('fails an on-demand deploy whose P-instance vCPU quota is too small, and only warns with a reservation', async () => {
    const low = { ...defaultAccount(), quotas: { 'L-417A185B': 192, 'L-1216C47A': 640 } };
    const onDemand = await preflight(low);
    const line = named(onDemand.results, 'GPU vCPU quota');
    assert.equal(line.status, 'fail');
    assert.match(line.detail, /L-417A185B "Running On-Demand P instances" is 192 vCPUs, below .* = 384: .*--desired-value 384 --region us-east-1/);
    const reserved = await preflight({ ...withReservation({}), quotas: low.quotas }, { capacityReservationId: 'cr-0123456789abcdef0' });
    assert.equal(named(reserved.results, 'GPU vCPU quota').status, 'warn');
  });

  it('falls back to the AWS default when the quota was never changed', async () => {
    const account = { ...defaultAccount(), quotas: { 'L-1216C47A': 640 }, defaultQuotas: { 'L-417A185B': 0 } };
    const { results, actions } = await preflight(account);
    assert.match(named(results, 'GPU vCPU quota').detail, /is 0 vCPUs, below/);
    assert.ok(actions.includes('GetAWSDefaultServiceQuota'));
  });

  describe('a deploy-cache bucket the user names (cacheBucketName)', () => {
    const CACHE = { deployCache: true, cacheBucketName: 'team-p5-cache' };
    const withBucket = (extra: Partial<FakeAccount> = {}): FakeAccount => ({ ...defaultAccount(), buckets: { 'team-p5-cache': {} }, ...extra });

    it('passes a bucket in the stack\'s region, asking S3 HeadBucket signed for that region', async () => {
      const { results, actions } = await preflight(withBucket(), CACHE);
      const line = named(results, 'deploy-cache bucket');
      assert.deepEqual([line.status, line.detail, line.source], ['pass', 'cacheBucketName=team-p5-cache is in us-east-1, the stack\'s region', 'live: S3 HeadBucket']);
      assert.ok(actions.includes('HeadBucket'));
    });

    it('fails a bucket in another region: the CRT transfer client would miss the cache on every deploy', async () => {
      const { results, exitCode } = await preflight(withBucket({ bucketRegions: { 'team-p5-cache': 'us-west-2' } }), CACHE);
      const line = named(results, 'deploy-cache bucket');
      assert.equal(line.status, 'fail');
      assert.match(line.detail, /^cacheBucketName=team-p5-cache is in us-west-2, the stack in us-east-1: .*CRT transfer client.*use a bucket in us-east-1$/);
      assert.equal(exitCode, 1);
    });

    it('fails a bucket that does not exist, and warns about one S3 refuses these credentials', async () => {
      assert.match(named((await preflight(defaultAccount(), CACHE)).results, 'deploy-cache bucket').detail, /^cacheBucketName=team-p5-cache: no such bucket; create it in us-east-1/);
      const foreign = named((await preflight(withBucket({ foreignBuckets: ['team-p5-cache'] }), CACHE)).results, 'deploy-cache bucket');
      assert.equal(foreign.status, 'warn');
      assert.match(foreign.detail, /is in us-east-1, but S3 refuses these credentials \(403\)/);
      const elsewhere = named((await preflight(withBucket({ foreignBuckets: ['team-p5-cache'], bucketRegions: { 'team-p5-cache': 'eu-west-1' } }), CACHE)).results, 'deploy-cache bucket');
      assert.equal(elsewhere.status, 'fail', 'a refused bucket still tells its region');
    });

    it('asks nothing of S3 without a named bucket (P5RayDeployCache makes its bucket in the stack\'s region)', async () => {
      const { results, actions } = await preflight(defaultAccount(), { deployCache: true });
      assert.ok(!results.some((r) => r.name === 'deploy-cache bucket'));
      assert.ok(!actions.includes('HeadBucket'));
    });
  });
});
