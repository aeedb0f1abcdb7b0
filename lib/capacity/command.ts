import { CapacityReservation, PurchaseCapacityBlockCommand } from '@aws-sdk/client-ec2';
import { priceTable } from '../catalog/prices';
import { AwsCallError, awsCall } from '../cli/aws';
import { CommandContext, CommandFailure, CommandInputs, runCommand } from '../cli/command';
import { CommandSpec, EXIT_USAGE, UsageError, dateOption, parseCommandLine, wholeNumberOption } from '../cli/command-line';
import { COST_TAG_KEY } from '../catalog/stack-names';
import { iso, money, shellQuote } from '../ops/format';
import { withSettings } from './cluster-yaml';
import {
  MAX_BLOCK_INSTANCES, OfferingQuery, RatedOffering, catalogGpu, checkBlockHours, describeOfferings, headTypeToCheck,
  rateOfferings, zonesOffering,
} from './offerings';

export interface CapacityInputs extends CommandInputs {
  /**
   * Asks the user a question and returns the answer, or undefined when nobody can answer (no terminal): then a
   * purchase needs `--yes`.
   */
  readonly confirm?: (question: string) => Promise<string | undefined>;
  readonly writeFile?: (path: string, text: string) => void;
}

const QUERY_OPTIONS = {
  nodes: { type: 'string', value: 'N', help: 'instances in the block (default: gpuNodes from the settings)' },
  hours: { type: 'string', value: 'H', help: 'block length in hours: whole days up to 14 days, whole weeks up to 182 days' },
  type: { type: 'string', value: 'TYPE', help: 'GPU instance type from the catalog (default: gpuInstanceType from the settings)' },
  region: { type: 'string', value: 'REGION', help: 'region to search (default: region from the settings)' },
  earliest: { type: 'string', value: 'DATE', help: 'earliest start, e.g. 2026-12-01 (UTC) or 2026-12-01T11:30Z' },
  latest: { type: 'string', value: 'DATE', help: 'latest end' },
  'dry-run': { type: 'boolean', help: "ask EC2 whether the call is allowed (EC2's DryRun), change nothing" },
} as const;

export const CAPACITY_FIND: CommandSpec = {
  invocation: 'npm run capacity -- find',
  summary: 'Lists the EC2 Capacity Block offerings for N instances for H hours in every AZ of the region, sorted by ' +
    'start then price, with the upfront fee and the effective $/GPU-hour, and the command that buys each.',
  options: { ...QUERY_OPTIONS, json: { type: 'boolean', help: 'print the offerings as JSON' } },
  notes: ['example: npm run capacity -- find --nodes 2 --hours 24 --earliest 2026-12-01'],
};

export const CAPACITY_BUY: CommandSpec = {
  invocation: 'npm run capacity -- buy',
  summary: 'Buys one Capacity Block offering after showing the fee, dates and AZ and getting your confirmation; tags ' +
    `the reservation ${COST_TAG_KEY}=<stackName> and prints the deploy command. Use the exact command \`find\` printed.`,
  positionals: [{ name: 'offeringId', help: 'the offering id that `npm run capacity -- find` listed', required: true }],
  options: {
    ...QUERY_OPTIONS,
    yes: { type: 'boolean', short: 'y', help: 'confirm the purchase without asking (for scripts); never the default' },
    'write-config': { type: 'string', value: 'FILE', help: 'also write the reservation settings into this cluster YAML (created or updated)' },
  },
  exitCodes: [
    [0, 'bought (or, with --dry-run, EC2 would allow the purchase)'],
    [1, 'not bought: no confirmation, the offering is gone, AWS refused (one line says why)'],
    [2, 'bad arguments or settings'],
  ],
  notes: ['The fee is charged when you buy and is not refunded if you stop the nodes or delete the stack.'],
};

const CAPACITY_TOP: CommandSpec = {
  invocation: 'npm run capacity --',
  summary: 'EC2 Capacity Blocks for ML: `find` lists offerings, `buy` buys one. `npm run capacity -- find --help` for each.',
  positionals: [{ name: 'find|buy', help: 'what to do', required: true }],
  options: {},
};

export async function runCapacityCommand(inputs: CapacityInputs): Promise<number> {
  const [sub, ...rest] = inputs.argv;
  if (sub === 'find') return runCommand(CAPACITY_FIND, { ...inputs, argv: rest }, (c) => find(c));
  if (sub === 'buy') return runCommand(CAPACITY_BUY, { ...inputs, argv: rest }, (c) => buy(c, inputs));
  // Anything else is a mistake, or the help: the same parser as every command says which, in one `error:` line.
  const outcome = parseCommandLine(CAPACITY_TOP, inputs.argv);
  if (outcome.kind === 'help') {
    for (const line of outcome.text.split('\n')) inputs.out(line);
    return 0;
  }
  const first = outcome.kind === 'run' ? outcome.parsed.positionals[0] : undefined;
  inputs.err(`error: ${outcome.kind === 'error' ? outcome.message
    : first === 'find' || first === 'buy' ? `put ${first} first: npm run capacity -- ${first} [options] (see npm run capacity -- ${first} --help)`
      : `unknown capacity command ${first}: use find or buy (see npm run capacity -- --help)`}`);
  return EXIT_USAGE;
}

function queryFrom(c: CommandContext): OfferingQuery {
  const v = c.args.values;
  if (v.hours === undefined) throw new UsageError('missing --hours H: how long the block must last (24 = one day)');
  const hours = wholeNumberOption('hours', v.hours, 1, 182 * 24);
  checkBlockHours(hours);
  const instanceType = typeof v.type === 'string' ? v.type : c.config.gpuInstanceType;
  catalogGpu(instanceType);
  const earliestStart = v.earliest === undefined ? undefined : dateOption('earliest', v.earliest);
  const latestEnd = v.latest === undefined ? undefined : dateOption('latest', v.latest);
  if (earliestStart && latestEnd && latestEnd <= earliestStart) {
    throw new UsageError(`invalid option --latest=${String(v.latest)}: must be after --earliest=${String(v.earliest)}`);
  }
  return {
    region: typeof v.region === 'string' ? v.region : c.config.region,
    instanceType,
    instanceCount: v.nodes === undefined ? c.config.gpuNodes : wholeNumberOption('nodes', v.nodes, 1, MAX_BLOCK_INSTANCES),
    hours,
    earliestStart,
    latestEnd,
  };
}

/** The arguments that reproduce a query, for the commands we print. */
function queryArgs(q: OfferingQuery, c: CommandContext): string[] {
  const args = ['--nodes', String(q.instanceCount), '--hours', String(q.hours), '--type', q.instanceType, '--region', q.region];
  if (q.earliestStart) args.push('--earliest', iso(q.earliestStart));
  if (q.latestEnd) args.push('--latest', iso(q.latestEnd));
  for (const pair of c.args.contextArgs) args.push('-c', pair);
  return args;
}

async function rated(c: CommandContext, q: OfferingQuery): Promise<RatedOffering[]> {
  const ec2 = c.clients(q.region).ec2;
  const offerings = await describeOfferings(ec2, q);
  if (offerings.length === 0) return [];
  const headType = headTypeToCheck(c.config);
  const [gpuZones, headZones] = await Promise.all([
    zonesOffering(ec2, q.region, q.instanceType),
    headType ? zonesOffering(ec2, q.region, headType) : Promise.resolve(undefined),
  ]);
  return rateOfferings(offerings, { config: c.config, gpuZones, headZones });
}

async function dryRun(c: CommandContext, iamAction: string, region: string, call: () => Promise<unknown>): Promise<number> {
  try {
    await call();
    c.out(`dry run: ${iamAction} returned without DryRunOperation; nothing was changed`);
    return 0;
  } catch (error) {
    if (error instanceof AwsCallError && error.code === 'DryRunOperation') {
      c.out(`dry run: EC2 would allow ${iamAction} in ${region} (DryRunOperation); nothing was changed`);
      return 0;
    }
    if (error instanceof AwsCallError && error.code === 'UnauthorizedOperation') {
      throw new CommandFailure(`dry run refused: your credentials may not call ${iamAction} in ${region} (UnauthorizedOperation)`);
    }
    throw error;
  }
}

async function find(c: CommandContext): Promise<number> {
  const q = queryFrom(c);
  if (c.args.values['dry-run']) {
    return dryRun(c, 'ec2:DescribeCapacityBlockOfferings', q.region, () => describeOfferings(c.clients(q.region).ec2, q, true));
  }
  const offers = await rated(c, q);
  const buyCommand = (o: RatedOffering) => `npm run capacity -- buy ${[o.offeringId, ...queryArgs(q, c)].map(shellQuote).join(' ')}`;
  if (c.args.values.json) {
    c.out(JSON.stringify(offers.map((o) => ({ ...o, start: o.start.toISOString(), end: o.end.toISOString(), next: buyCommand(o) })), null, 2));
    return 0;
  }
  const spec = catalogGpu(q.instanceType);
  c.out(`Capacity Block offerings in ${q.region}: ${q.instanceCount} × ${q.instanceType} (${spec.gpus} × ${spec.gpuModel} each, ` +
    `instance catalog) for ${q.hours} h${q.earliestStart ? `, from ${iso(q.earliestStart)}` : ''}${q.latestEnd ? `, ending by ${iso(q.latestEnd)}` : ''} ` +
    '(live: DescribeCapacityBlockOfferings, every page, all AZs)');
  const table = priceTable(q.region);
  const onDemand = table?.ec2OnDemandHourly[q.instanceType];
  if (table && onDemand !== undefined) {
    c.out(`For comparison, on demand: ${money(onDemand)}/instance-h = ${money(onDemand / spec.gpus)}/GPU-h ` +
      `(prices ${table.priceDate}, ${table.source.split(';')[0]})`);
  }
  if (offers.length === 0) {
    c.out('No offerings: try other dates (--earliest/--latest), fewer nodes, another length, or another region.');
    return 0;
  }
  const rows = offers.map((o, i) => [
    String(i + 1), o.offeringId, o.availabilityZone, iso(o.start), iso(o.end), String(o.hours),
    `${money(o.upfrontFee)}${o.currency === 'USD' ? '' : ` ${o.currency}`}`, money(o.usdPerGpuHour), o.flags.length > 0 ? 'see below' : 'ok',
  ]);
  for (const line of table2(['#', 'offering', 'AZ', 'start (UTC)', 'end (UTC)', 'hours', 'upfront fee', '$/GPU-h', 'fits'], rows)) c.out(line);
  c.out('');
  offers.forEach((o, i) => {
    for (const flag of o.flags) c.out(`  #${i + 1} FLAG: ${flag}`);
    c.out(`  #${i + 1}: ${buyCommand(o)}`);
  });
  c.out('');
  c.out('$/GPU-h = upfront fee ÷ (instances × GPUs per instance × hours). The fee is charged at purchase, for the whole ' +
    'block, whether the nodes run or not.');
  return 0;
}

async function buy(c: CommandContext, inputs: CapacityInputs): Promise<number> {
  const q = queryFrom(c);
  const offeringId = c.args.positionals[0];
  const ec2 = c.clients(q.region).ec2;
  const purchase = (dry: boolean) => awsCall('ec2:PurchaseCapacityBlock', q.region, () => ec2.send(new PurchaseCapacityBlockCommand({
    CapacityBlockOfferingId: offeringId,
    InstancePlatform: 'Linux/UNIX',
    DryRun: dry || undefined,
    TagSpecifications: [{ ResourceType: 'capacity-reservation', Tags: [{ Key: COST_TAG_KEY, Value: c.config.stackName }] }],
  })));

  // There is no call that describes one offering by id: search again with the same query and find it.
  const offer = (await rated(c, q)).find((o) => o.offeringId === offeringId);
  if (!offer) {
    throw new CommandFailure(`offering ${offeringId} is not (or no longer) offered for ${q.instanceCount} × ${q.instanceType} ` +
      `for ${q.hours} h in ${q.region}: offerings change as others buy them; run npm run capacity -- find ${queryArgs(q, c).map(shellQuote).join(' ')} again`);
  }
  c.out(`Capacity Block ${offer.offeringId}: ${offer.instanceCount} × ${offer.instanceType} in ${offer.availabilityZone}`);
  c.out(`  from ${iso(offer.start)} to ${iso(offer.end)} (${offer.hours} h, UTC)`);
  c.out(`  upfront fee: ${money(offer.upfrontFee)} ${offer.currency} (${money(offer.usdPerGpuHour)}/GPU-h), charged now; ` +
    'not refunded if you stop the nodes or delete the stack (quoted by DescribeCapacityBlockOfferings)');
  c.out(`  tagged ${COST_TAG_KEY}=${c.config.stackName}`);
  for (const flag of offer.flags) c.out(`  FLAG: ${flag}`);

  if (c.args.values['dry-run']) return dryRun(c, 'ec2:PurchaseCapacityBlock', q.region, () => purchase(true));

  if (c.args.values.yes !== true) {
    const answer = inputs.confirm ? await inputs.confirm(`Buy it for ${money(offer.upfrontFee)} ${offer.currency}? Type yes to buy: `) : undefined;
    if (answer === undefined) {
      throw new CommandFailure('not bought: no confirmation (no terminal to ask); add --yes to buy from a script');
    }
    if (answer.trim().toLowerCase() !== 'yes') throw new CommandFailure(`not bought: the answer was "${answer.trim()}", not yes`);
  }

  const out = await purchase(false);
  const reservation: CapacityReservation | undefined = out.CapacityReservation;
  const id = reservation?.CapacityReservationId;
  if (!id) throw new CommandFailure('EC2 accepted the purchase but returned no capacity reservation id: check the EC2 console (Capacity Reservations)');
  c.out(`bought: capacity reservation ${id} (${reservation?.State ?? 'state unknown'}), ${offer.instanceCount} × ${offer.instanceType} ` +
    `in ${reservation?.AvailabilityZone ?? offer.availabilityZone} from ${iso(reservation?.StartDate ?? offer.start)} to ${iso(reservation?.EndDate ?? offer.end)}`);

  const settings: Record<string, string | number | boolean> = {
    capacityReservationId: id,
    capacityBlock: true,
    availabilityZone: reservation?.AvailabilityZone ?? offer.availabilityZone,
  };
  if (q.region !== c.config.region) settings.region = q.region;
  if (offer.instanceCount !== c.config.gpuNodes) settings.gpuNodes = offer.instanceCount;
  if (offer.instanceType !== c.config.gpuInstanceType) settings.gpuInstanceType = offer.instanceType;

  const file = c.args.values['write-config'];
  const userContext = c.args.contextArgs.filter((pair) => !(typeof file === 'string' && pair.startsWith('config=')));
  let deploy: string[];
  if (typeof file === 'string') {
    const existing = readIfPresent(c, file);
    (inputs.writeFile ?? (() => { throw new Error('no writeFile'); }))(file, withSettings(existing, file, settings));
    c.out(`wrote ${Object.keys(settings).join(', ')} to ${file}`);
    deploy = ['-c', `config=${file}`, ...userContext.flatMap((p) => ['-c', p])];
  } else {
    deploy = [...userContext.flatMap((p) => ['-c', p]), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  }
  const args = deploy.map(shellQuote).join(' ');
  c.out(`next: npm run preflight -- ${args}`);
  c.out(`then: npx cdk deploy ${args}`);
  if (offer.start.getTime() > c.now().getTime()) {
    c.out(`The block starts ${iso(offer.start)}: deploy after that (instances cannot launch into it earlier).`);
  }
  return 0;
}

function readIfPresent(c: CommandContext, path: string): string | undefined {
  try {
    return c.readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UsageError(`cannot read --write-config ${path}: ${(error as Error).message}`);
  }
}

/** Left-aligned columns with a rule under the header. */
export function table2(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) => cells.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}
