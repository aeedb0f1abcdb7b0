import {
  CapacityBlockOffering, DescribeCapacityBlockOfferingsCommand, DescribeInstanceTypeOfferingsCommand, EC2Client, _InstanceType,
} from '@aws-sdk/client-ec2';
import { GpuInstanceSpec, GPU_INSTANCES, gpuInstance } from '../catalog/instances';
import { awsCall } from '../cli/aws';
import { UsageError } from '../cli/command-line';
import { ClusterConfig, hasSeparateHead } from '../config/cluster-config';
import { estimateBenchmarkRun } from '../estimates/benchmark-run';
import { BLOCK_TERMINATION_LEAD_MINUTES } from '../preflight/checks/capacity-block-window';

/** What the user asks for: N instances of a catalog GPU type for H hours, optionally within a date window. */
export interface OfferingQuery {
  readonly region: string;
  readonly instanceType: string;
  readonly instanceCount: number;
  readonly hours: number;
  readonly earliestStart?: Date;
  readonly latestEnd?: Date;
}

/**
 * Capacity Block durations, from the EC2 API model (@aws-sdk/client-ec2 3.1169.0,
 * DescribeCapacityBlockOfferingsRequest.CapacityDurationHours): "in 1-day increments up 14 days, and in 7-day
 * increments up to 182 days"; InstanceCount: "Each Capacity Block can have up to 64 instances".
 */
export const MAX_BLOCK_INSTANCES = 64;
export function checkBlockHours(hours: number): void {
  const ok = (hours % 24 === 0 && hours >= 24 && hours <= 14 * 24) || (hours % (7 * 24) === 0 && hours <= 182 * 24);
  if (!ok) {
    throw new UsageError(`invalid option --hours=${hours}: a Capacity Block lasts whole days up to 14 days ` +
      '(24, 48, … 336) or whole weeks up to 182 days (504, 672, … 4368), per the EC2 API (DescribeCapacityBlockOfferings)');
  }
}

export function catalogGpu(type: string): GpuInstanceSpec {
  const spec = gpuInstance(type);
  if (!spec) throw new UsageError(`invalid option --type=${type}: must be a GPU type of the instance catalog (${Object.keys(GPU_INSTANCES).join(', ')})`);
  return spec;
}

/** One offering as AWS quoted it, with what we derived and what we warn about. */
export interface RatedOffering {
  readonly offeringId: string;
  readonly availabilityZone: string;
  readonly instanceType: string;
  readonly instanceCount: number;
  readonly start: Date;
  readonly end: Date;
  readonly hours: number;
  readonly upfrontFee: number;
  readonly currency: string;
  /** upfrontFee ÷ (instances × GPUs per instance (catalog) × hours). */
  readonly usdPerGpuHour: number;
  readonly flags: readonly string[];
}

/** Every page of DescribeCapacityBlockOfferings: AWS returns the offerings of all the region's AZs, paginated. */
export async function describeOfferings(ec2: EC2Client, query: OfferingQuery, dryRun = false): Promise<CapacityBlockOffering[]> {
  const found: CapacityBlockOffering[] = [];
  let NextToken: string | undefined;
  // A bound so a misbehaving endpoint cannot loop us forever; 50 pages is far beyond any real answer.
  for (let page = 0; page < 50; page++) {
    const out = await awsCall('ec2:DescribeCapacityBlockOfferings', query.region, () => ec2.send(new DescribeCapacityBlockOfferingsCommand({
      InstanceType: query.instanceType,
      InstanceCount: query.instanceCount,
      CapacityDurationHours: query.hours,
      StartDateRange: query.earliestStart,
      EndDateRange: query.latestEnd,
      DryRun: dryRun || undefined,
      NextToken,
    })));
    found.push(...(out.CapacityBlockOfferings ?? []));
    NextToken = out.NextToken;
    if (!NextToken) break;
  }
  return found;
}

/** The region's AZs that offer a type (DescribeInstanceTypeOfferings, every page). */
export async function zonesOffering(ec2: EC2Client, region: string, instanceType: string): Promise<Set<string>> {
  const zones = new Set<string>();
  let NextToken: string | undefined;
  for (let page = 0; page < 20; page++) {
    const out = await awsCall('ec2:DescribeInstanceTypeOfferings', region, () => ec2.send(new DescribeInstanceTypeOfferingsCommand({
      LocationType: 'availability-zone',
      Filters: [{ Name: 'instance-type', Values: [instanceType as _InstanceType] }],
      NextToken,
    })));
    for (const o of out.InstanceTypeOfferings ?? []) if (o.Location && o.InstanceType === instanceType) zones.add(o.Location);
    NextToken = out.NextToken;
    if (!NextToken) break;
  }
  return zones;
}

export interface RatingFacts {
  readonly config: ClusterConfig;
  /** AZs offering the GPU type, and the head type when the stack has a separate head. */
  readonly gpuZones: ReadonlySet<string>;
  readonly headZones?: ReadonlySet<string>;
}

const HOUR_MS = 3_600_000;

/**
 * Prices each offering per GPU-hour and flags what would make it useless for this stack: an AZ that does not offer
 * the GPU type or the head type (the whole stack lives in the block's AZ), or a block that ends — less the 30
 * minutes before its end at which AWS terminates its instances — before the bootstrap timeout plus the benchmark
 * estimate have run from its start.
 */
export function rateOfferings(offerings: readonly CapacityBlockOffering[], facts: RatingFacts): RatedOffering[] {
  const { config } = facts;
  const benchmark = estimateBenchmarkRun(config);
  // Without a measured basis for this model and hardware there is no benchmark estimate: only the bootstrap counts.
  const neededHours = config.bootstrapTimeoutMinutes / 60 + (benchmark?.estimatedHours ?? 0);
  const rated: RatedOffering[] = [];
  for (const o of offerings) {
    if (!o.CapacityBlockOfferingId || !o.StartDate || !o.EndDate || !o.InstanceType) continue;
    const spec = gpuInstance(o.InstanceType);
    const count = o.InstanceCount ?? 0;
    const hours = o.CapacityBlockDurationHours !== undefined
      ? o.CapacityBlockDurationHours + (o.CapacityBlockDurationMinutes ?? 0) / 60
      : (o.EndDate.getTime() - o.StartDate.getTime()) / HOUR_MS;
    const fee = Number(o.UpfrontFee);
    const gpuHours = count * (spec?.gpus ?? 0) * hours;
    const flags: string[] = [];
    const az = o.AvailabilityZone ?? '?';
    if (!facts.gpuZones.has(az)) flags.push(`${o.InstanceType} is not offered in ${az} (DescribeInstanceTypeOfferings)`);
    if (facts.headZones && !facts.headZones.has(az)) {
      flags.push(`the head type ${config.headInstanceType} is not offered in ${az}: set headInstanceType to another type or none`);
    }
    const usableEnd = o.EndDate.getTime() - BLOCK_TERMINATION_LEAD_MINUTES * 60_000;
    const doneBy = o.StartDate.getTime() + neededHours * HOUR_MS;
    if (doneBy > usableEnd) {
      flags.push(`too short: AWS terminates the instances ${BLOCK_TERMINATION_LEAD_MINUTES} min before the end, before ` +
        `bootstrapTimeoutMinutes=${config.bootstrapTimeoutMinutes}` +
        (benchmark ? ` + the ~${benchmark.estimatedHours} h benchmark run are over` : ' is over (no benchmark estimate for this model and hardware)'));
    }
    if (!Number.isFinite(fee)) flags.push(`AWS quoted no usable upfront fee (${String(o.UpfrontFee)})`);
    rated.push({
      offeringId: o.CapacityBlockOfferingId,
      availabilityZone: az,
      instanceType: o.InstanceType,
      instanceCount: count,
      start: o.StartDate,
      end: o.EndDate,
      hours: round(hours, 2),
      upfrontFee: fee,
      currency: o.CurrencyCode ?? 'USD',
      usdPerGpuHour: gpuHours > 0 ? round(fee / gpuHours, 4) : NaN,
      flags,
    });
  }
  return rated.sort((a, b) => a.start.getTime() - b.start.getTime() || a.usdPerGpuHour - b.usdPerGpuHour ||
    a.offeringId.localeCompare(b.offeringId));
}

/** Whether the stack needs the head type in the block's AZ too. */
export function headTypeToCheck(config: ClusterConfig): string | undefined {
  return hasSeparateHead(config) ? config.headInstanceType : undefined;
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
