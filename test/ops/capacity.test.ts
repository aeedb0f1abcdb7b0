import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CapacityInputs, runCapacityCommand } from '../../lib/capacity/command';
import { FakeAccount, FakeCapacityOffering, defaultAccount } from '../preflight/fake-aws-endpoint';
import { closeEndpoints, runWithFake } from './helpers';

after(closeEndpoints);

const DAY = 24;
const T0 = new Date('2026-12-01T11:30:00Z');
const at = (days: number) => new Date(T0.getTime() + days * 86_400_000);
/** A fee that makes $/GPU-hour exactly `perGpuHour` for 2 × p5.48xlarge (8 GPUs each, catalog) × hours. */
const fee = (perGpuHour: number, hours = DAY, nodes = 2) => (perGpuHour * nodes * 8 * hours).toFixed(4);

function offer(id: string, az: string, day: number, perGpuHour: number, extra: Partial<FakeCapacityOffering> = {}): FakeCapacityOffering {
  return { id, availabilityZone: az, instanceType: 'p5.48xlarge', instanceCount: 2, start: at(day), hours: DAY, upfrontFee: fee(perGpuHour), ...extra };
}

/** Offerings in three AZs, answered two per page; us-east-1c does not offer p5 (defaultAccount), us-east-1d offers nothing. */
function market(): FakeAccount {
  return {
    ...defaultAccount(),
    offerings: { ...defaultAccount().offerings, 'm7i.2xlarge': ['us-east-1a', 'us-east-1b', 'us-east-1c'] },
    pageSize: 2,
    capacityOfferings: [
      offer('cb-0later00000000001', 'us-east-1a', 3, 9.5),
      offer('cb-0cheap00000000002', 'us-east-1b', 1, 8.25),
      offer('cb-0dear000000000003', 'us-east-1a', 1, 11),
      offer('cb-0zone1c0000000004', 'us-east-1c', 2, 7),
      offer('cb-0zone1d0000000005', 'us-east-1d', 2, 7.5),
      offer('cb-0other000000000006', 'us-east-1a', 1, 5, { instanceCount: 4, upfrontFee: fee(5, DAY, 4) }),
    ],
  };
}

const capacity = (argv: string[], account: FakeAccount, extra: Partial<CapacityInputs> & { files?: Record<string, string> } = {}) =>
  // The clock is the market's: offerings are dated from T0, and "starts later" messages compare with now.
  runWithFake(runCapacityCommand, argv, account, { now: () => T0, ...extra });

describe('npm run capacity -- find', () => {
  it('lists the offerings of every AZ and every page, sorted by start then price, with the right $/GPU-hour', async () => {
    const run = await capacity(['find', '--hours', '24'], market());
    assert.equal(run.code, 0, run.text);
    const rows = run.out.filter((l) => /^\d+ +cb-/.test(l));
    assert.deepEqual(rows.map((l) => l.split(/ +/)[1]),
      ['cb-0cheap00000000002', 'cb-0dear000000000003', 'cb-0zone1c0000000004', 'cb-0zone1d0000000005', 'cb-0later00000000001']);
    assert.match(rows[0], /us-east-1b +2026-12-02T11:30Z +2026-12-03T11:30Z +24 +\$3,168\.00 +\$8\.25 +ok/);
    assert.match(rows[1], /\$4,224\.00 +\$11\.00/);
    // Three pages of offerings (six, two per page) were read, and the AZ offerings for both node types.
    assert.equal(run.endpoint.actions.filter((a) => a === 'DescribeCapacityBlockOfferings').length, 3);
    assert.ok(run.endpoint.actions.includes('DescribeInstanceTypeOfferings'));
    const request = run.endpoint.calls.find((c) => c.action === 'DescribeCapacityBlockOfferings');
    assert.deepEqual([request?.params.InstanceType, request?.params.InstanceCount, request?.params.CapacityDurationHours],
      ['p5.48xlarge', '2', '24']);
    assert.match(run.text, /For comparison, on demand: \$55\.04\/instance-h = \$6\.88\/GPU-h \(prices instances \d{4}-\d\d-\d\d, .*SkyPilot AWS catalog/);
  });

  it('flags an AZ that does not offer the GPU type or the head type, and prints the exact buy command', async () => {
    const run = await capacity(['find', '--hours', '24', '-c', 'stackName=Exp1'], market());
    assert.match(run.text, /#3 FLAG: p5\.48xlarge is not offered in us-east-1c \(DescribeInstanceTypeOfferings\)/);
    assert.match(run.text, /#4 FLAG: p5\.48xlarge is not offered in us-east-1d/);
    assert.match(run.text, /#4 FLAG: the head type m7i\.2xlarge is not offered in us-east-1d/);
    assert.doesNotMatch(run.text, /#1 FLAG/);
    assert.ok(run.out.includes('  #1: npm run capacity -- buy cb-0cheap00000000002 --nodes 2 --hours 24 --type p5.48xlarge --region us-east-1 -c stackName=Exp1'), run.text);
  });

  it('flags a block too short for the bootstrap timeout plus the benchmark run', async () => {
    const account = { ...market(), capacityOfferings: [offer('cb-0short0000000001', 'us-east-1a', 0, 9, { actualHours: 2.5, upfrontFee: fee(9, 2.5) })] };
    const run = await capacity(['find', '--hours', '24', '--json'], account);
    const [o] = JSON.parse(run.out.join('\n'));
    assert.equal(o.hours, 2.5);
    assert.equal(o.usdPerGpuHour, 9);
    assert.match(o.flags.join(), /too short: AWS terminates the instances 30 min before the end, before bootstrapTimeoutMinutes=90/);
    assert.match(o.next, /^npm run capacity -- buy cb-0short0000000001 /);
  });

  it('passes --earliest/--latest and another type and count to EC2, and reports an empty market plainly', async () => {
    const run = await capacity(['find', '--hours', '48', '--nodes', '3', '--type', 'p5en.48xlarge', '--earliest', '2026-12-05', '--latest', '2026-12-20T11:30Z'], market());
    assert.equal(run.code, 0, run.text);
    const p = run.endpoint.calls.find((c) => c.action === 'DescribeCapacityBlockOfferings')?.params ?? {};
    assert.equal(p.InstanceType, 'p5en.48xlarge');
    assert.equal(p.InstanceCount, '3');
    assert.equal(new Date(String(p.StartDateRange)).toISOString(), '2026-12-05T00:00:00.000Z');
    assert.equal(new Date(String(p.EndDateRange)).toISOString(), '2026-12-20T11:30:00.000Z');
    assert.match(run.text, /No offerings: try other dates/);
  });

  it('rejects bad arguments with one line naming the option, before calling AWS', async () => {
    for (const [argv, pattern] of [
      [['find', '--hours', '30'], /invalid option --hours=30: a Capacity Block lasts whole days/],
      [['find'], /missing --hours H/],
      [['find', '--hours', '24', '--type', 'm7i.2xlarge'], /invalid option --type=m7i\.2xlarge: must be a GPU type of the instance catalog \(p5\.48xlarge, /],
      [['find', '--hours', '24', '--nodes', '0'], /invalid option --nodes=0: must be a whole number from 1 to 64/],
      [['find', '--hours', '24', '--earliest', 'tomorrow'], /invalid option --earliest=tomorrow: must be a date/],
      [['find', '--hour', '24'], /unknown argument --hour: the options are/],
      [['sell'], /unknown capacity command sell: use find or buy/],
    ] as Array<[string[], RegExp]>) {
      const run = await capacity(argv, market());
      assert.equal(run.code, 2, `${argv.join(' ')}: ${run.text}`);
      assert.equal(run.err.length, 1, run.text);
      assert.match(run.err[0], pattern);
      assert.deepEqual(run.endpoint.actions, []);
    }
  });

  it('says in one line that the credentials may not list offerings, and --dry-run asks EC2 without listing', async () => {
    const denied = await capacity(['find', '--hours', '24'], { ...market(), denied: ['DescribeCapacityBlockOfferings'] });
    assert.equal(denied.code, 1);
    assert.deepEqual(denied.err, ['error: not authorized to call ec2:DescribeCapacityBlockOfferings in us-east-1 (UnauthorizedOperation): grant it to your credentials (the AWS managed policy ReadOnlyAccess covers the read-only calls)']);
    const dry = await capacity(['find', '--hours', '24', '--dry-run'], market());
    assert.equal(dry.code, 0, dry.text);
    assert.match(dry.text, /dry run: EC2 would allow ec2:DescribeCapacityBlockOfferings in us-east-1 \(DryRunOperation\)/);
    assert.equal(dry.endpoint.calls[0].params.DryRun, 'true');
  });
});

describe('npm run capacity -- buy', () => {
  const BUY = ['buy', 'cb-0cheap00000000002', '--nodes', '2', '--hours', '24', '--type', 'p5.48xlarge', '--region', 'us-east-1'];

  it('shows the charge and refuses without a confirmation: nothing is bought', async () => {
    const run = await capacity(BUY, market());
    assert.equal(run.code, 1);
    assert.match(run.text, /Capacity Block cb-0cheap00000000002: 2 × p5\.48xlarge in us-east-1b/);
    assert.match(run.text, /from 2026-12-02T11:30Z to 2026-12-03T11:30Z \(24 h, UTC\)/);
    assert.match(run.text, /upfront fee: \$3,168\.00 USD \(\$8\.25\/GPU-h\), charged now; not refunded/);
    assert.deepEqual(run.err, ['error: not bought: no confirmation (no terminal to ask); add --yes to buy from a script']);
    assert.ok(!run.endpoint.actions.includes('PurchaseCapacityBlock'));
  });

  it('refuses when the answer is not yes', async () => {
    const questions: string[] = [];
    const run = await capacity(BUY, market(), { confirm: async (q) => { questions.push(q); return 'y'; } });
    assert.equal(run.code, 1);
    assert.match(questions[0], /Buy it for \$3,168\.00 USD\? Type yes to buy/);
    assert.match(run.err[0], /not bought: the answer was "y", not yes/);
    assert.ok(!run.endpoint.actions.includes('PurchaseCapacityBlock'));
  });

  it('buys after a yes, tags the reservation with the stack name and prints the deploy command', async () => {
    const run = await capacity([...BUY, '-c', 'stackName=Exp1'], market(), { confirm: async () => 'yes' });
    assert.equal(run.code, 0, run.text);
    assert.equal(run.endpoint.purchases.length, 1);
    const [p] = run.endpoint.purchases;
    assert.deepEqual([p.offeringId, p.platform, p.tagResourceType, p.tags], ['cb-0cheap00000000002', 'Linux/UNIX', 'capacity-reservation', { 'p5-ray:cluster': 'Exp1' }]);
    assert.match(run.text, new RegExp(`bought: capacity reservation ${p.reservationId} \\(scheduled\\), 2 × p5\\.48xlarge in us-east-1b`));
    assert.ok(run.out.includes(`then: npx cdk deploy -c stackName=Exp1 -c capacityReservationId=${p.reservationId} -c capacityBlock=true -c availabilityZone=us-east-1b`), run.text);
    assert.match(run.text, /The block starts 2026-12-02T11:30Z: deploy after that/);
  });

  it('--yes buys without asking and --write-config puts the settings into the cluster YAML, keeping its keys and comments', async () => {
    const written: Record<string, string> = {};
    const files = { 'cluster.yaml': '# my cluster\nregion: us-east-1\nmaxHours: 4 # short run\n' };
    const run = await capacity([...BUY, '--nodes', '4', '--yes', '--write-config', 'cluster.yaml', '-c', 'config=cluster.yaml'],
      { ...market(), capacityOfferings: [offer('cb-0cheap00000000002', 'us-east-1b', 1, 8.25, { instanceCount: 4, upfrontFee: fee(8.25, DAY, 4) })] },
      { files, writeFile: (path, text) => { written[path] = text; }, confirm: async () => { throw new Error('must not ask'); } });
    assert.equal(run.code, 0, run.text);
    const id = run.endpoint.purchases[0].reservationId;
    assert.equal(written['cluster.yaml'], `# my cluster\nregion: us-east-1\nmaxHours: 4 # short run\ncapacityReservationId: ${id}\n` +
      'capacityBlock: true\navailabilityZone: us-east-1b\ngpuNodes: 4\n');
    assert.ok(run.out.includes('then: npx cdk deploy -c config=cluster.yaml'), run.text);
  });

  it('says in one line when the offering is gone, and buys nothing', async () => {
    const run = await capacity(['buy', 'cb-0sold000000000009', '--hours', '24'], market(), { confirm: async () => 'yes' });
    assert.equal(run.code, 1);
    assert.equal(run.err.length, 1);
    assert.match(run.err[0], /^error: offering cb-0sold000000000009 is not \(or no longer\) offered for 2 × p5\.48xlarge for 24 h in us-east-1: .*run npm run capacity -- find --nodes 2 --hours 24/);
    assert.ok(!run.endpoint.actions.includes('PurchaseCapacityBlock'));
  });

  it('--dry-run asks EC2 with DryRun and buys nothing; a refusal is one line', async () => {
    const ok = await capacity([...BUY, '--dry-run'], market());
    assert.equal(ok.code, 0, ok.text);
    assert.match(ok.text, /dry run: EC2 would allow ec2:PurchaseCapacityBlock in us-east-1 \(DryRunOperation\); nothing was changed/);
    assert.equal(ok.endpoint.calls.find((c) => c.action === 'PurchaseCapacityBlock')?.params.DryRun, 'true');
    assert.equal(ok.endpoint.purchases.length, 0);
    const refused = await capacity([...BUY, '--dry-run'], { ...market(), denied: ['PurchaseCapacityBlock'] });
    assert.equal(refused.code, 1);
    assert.deepEqual(refused.err, ['error: dry run refused: your credentials may not call ec2:PurchaseCapacityBlock in us-east-1 (UnauthorizedOperation)']);
  });

  it('reports a purchase AWS refuses as one line naming the action', async () => {
    const run = await capacity([...BUY, '--yes'], { ...market(), denied: ['PurchaseCapacityBlock'] });
    assert.equal(run.code, 1);
    assert.equal(run.err.length, 1);
    assert.match(run.err[0], /^error: not authorized to call ec2:PurchaseCapacityBlock in us-east-1 \(UnauthorizedOperation\)/);
  });
});

describe('docs/operations.md', () => {
  it('shows what `npm run capacity -- find --hours 24` prints, line for line, for the market it describes', async () => {
    // Two offerings for 2026-12-01: one in us-east-1c, which does not offer p5.48xlarge (defaultAccount), one in us-east-1b.
    const account: FakeAccount = {
      ...defaultAccount(),
      capacityOfferings: [
        { id: 'cb-0a', availabilityZone: 'us-east-1b', instanceType: 'p5.48xlarge', instanceCount: 2, start: T0, hours: DAY, upfrontFee: fee(8.25) },
        { id: 'cb-0b', availabilityZone: 'us-east-1c', instanceType: 'p5.48xlarge', instanceCount: 2, start: T0, hours: DAY, upfrontFee: fee(7.8125) },
      ],
    };
    const run = await capacity(['find', '--hours', '24'], account, { now: () => new Date(T0.getTime() - 86_400_000) });
    assert.equal(run.code, 0, run.text);
    const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'operations.md'), 'utf8');
    const block = /Example \(`npm run capacity -- find --hours 24`\):\n\n```\n([\s\S]*?)\n```/.exec(doc)?.[1];
    assert.ok(block, 'the example block in docs/operations.md');
    assert.equal(block, run.out.join('\n'), `docs/operations.md is stale; the command prints:\n${run.out.join('\n')}`);
  });
});
