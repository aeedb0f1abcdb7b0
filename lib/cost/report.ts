import { instanceSpec } from '../catalog/instances';
import { HOURS_PER_MONTH, INSTANCE_PRICES, INSTANCE_PRICE_SOURCE, PRICE_TABLES, RegionPriceTable, priceTable } from '../catalog/prices';
import { SPEND_GUARD_RESOURCE_TYPE } from '../guard/stop-time-handler';
import { LiveRefreshOptions, refreshPricesLive } from './live-prices';
import { freeReason } from './resource-types';

/** The parts of a synthesized CloudFormation template the cost review reads. */
export interface CfnTemplate {
  readonly Resources?: Readonly<Record<string, CfnResourceJson>>;
}

export interface CfnResourceJson {
  readonly Type: string;
  readonly Properties?: Readonly<Record<string, unknown>>;
}

/**
 * Usage that is not visible in the template. Each one is printed with the report, so the reader can see what the
 * usage-based lines assume.
 */
export interface UsageAssumptions {
  /** GB each EC2 instance pulls through the NAT gateways per day (model weights, wheels, CUDA libraries). */
  readonly natGbPerInstancePerDay: number;
  /** GB ingested per day into each log group. */
  readonly logGbPerDayPerGroup: number;
  /** GB stored in each S3 bucket (serve configs, bootstrap bundle, benchmark results). */
  readonly bucketGb: number;
  /** GB kept in the deploy cache (when `deployCache` is on); default: the cluster's own estimate. */
  readonly deployCacheGb?: number;
}

export const DEFAULT_USAGE: UsageAssumptions = {
  // gpt-oss-120b weights are ~65 GB; vLLM, torch, NIXL and LMCache wheels add ~25 GB per node.
  natGbPerInstancePerDay: 90,
  logGbPerDayPerGroup: 0.5,
  bucketGb: 10,
};

/**
 * What a template cannot show, and the cost review needs: the one typed input beside the template. Everything
 * else (instance types, Capacity Block market type, reservations, volumes, the spend guard's hours) is read from
 * the synthesized template itself.
 */
export interface CostInputs {
  /** One full benchmark run, when this stack's model and hardware have a measured basis; absent otherwise. */
  readonly benchmark?: BenchmarkEstimate;
  readonly usage?: Partial<UsageAssumptions>;
  /** The opt-in deploy cache: a bucket outside this stack (so not in its template) that keeps billing after it. */
  readonly deployCache?: DeployCacheCost;
}

export interface DeployCacheCost {
  readonly bucketName: string;
  /** Its expected size, GB; absent when unknown (e.g. a model whose size is not known). */
  readonly gb?: number;
  /** What the size rests on, printed with it. */
  readonly basis: string;
}

export interface BenchmarkEstimate {
  readonly estimatedHours: number;
  /** Where the figure comes from, printed with it. */
  readonly basis: string;
}

export interface CostReportInput extends CostInputs {
  /** The synthesized template (e.g. the cloud assembly's `<stack>.template.json`): the source of truth. */
  readonly template: object;
  readonly region: string;
  /** Overrides the dated table, e.g. with the result of `refreshPricesLive`. */
  readonly prices?: RegionPriceTable;
  /** Instance prices that win over every table (the live refresh's). */
  readonly instancePrices?: Readonly<Record<string, number>>;
  /** Extra warnings to carry into the report (e.g. from a failed live refresh). */
  readonly warnings?: readonly string[];
}

export type Pricing = 'on-demand' | 'capacity-block' | 'fixed' | 'usage-estimate' | 'negligible' | 'unknown';

export interface CostLine {
  readonly logicalId: string;
  readonly resourceType: string;
  readonly description: string;
  readonly quantity: number;
  /** What one unit of `quantity` is: instance, GB, AZ, GB/day (estimate)… */
  readonly unit: string;
  /** USD per unit per hour; null when the price is unknown. */
  readonly unitHourlyUsd: number | null;
  /** quantity × unitHourlyUsd; null when the price is unknown. */
  readonly hourlyUsd: number | null;
  readonly dailyUsd: number | null;
  readonly pricing: Pricing;
  /** Whether stopping the instances stops this charge (on-demand compute only). */
  readonly stopsWithInstances: boolean;
  readonly note?: string;
}

export type SpendGuardSummary =
  | {
      readonly enabled: true;
      readonly maxHours: number;
      readonly scheduleLogicalIds: readonly string[];
      readonly targetInstanceLogicalIds: readonly string[];
      readonly stopTime: string;
      /** What the stack costs from creation until the guard stops the nodes: maxHours × the hourly total. */
      readonly costAtStopUsd: number;
      /**
       * The compute of the instances the guard stops (their known prices): a stopped instance bills no compute, so it
       * leaves the hourly figure whatever its price.
       */
      readonly stoppedHourlyUsd: number;
      /** Instances whose compute the stop ends (none when reserved capacity bills whether they run or not). */
      readonly stoppedInstances: number;
      /** Those of them whose price is unknown: they stop billing too, so they leave no gap after the stop. */
      readonly stoppedUnpriced: number;
      /** What keeps being billed after the stop (head node, volumes, NAT, endpoints, addresses, Capacity Block…). */
      readonly hourlyAfterStopUsd: number;
      /**
       * How sure that figure is: `exact`; `lower-bound` when an unpriced line other than an instance keeps billing;
       * `unknown` when an unpriced instance keeps billing (its compute would be most of the figure).
       */
      readonly hourlyAfterStopCertainty: 'exact' | 'lower-bound' | 'unknown';
    }
  | {
      readonly enabled: false;
      readonly maxHours: 0;
      readonly costAtStopUsd: 'off';
      readonly warning: string;
    };

export interface CostReport {
  readonly region: string;
  readonly currency: 'USD';
  readonly priceDate: string;
  readonly priceSource: string;
  readonly capacityBlock: boolean;
  /** Sum of the known lines. When `unknownLines` is not empty this is a lower bound. */
  readonly totalHourlyUsd: number;
  readonly totalDailyUsd: number;
  readonly totalIsLowerBound: boolean;
  /** An instance's price is unknown: the totals would hide most of the bill, so they are printed as unknown. */
  readonly instancePriceUnknown: boolean;
  readonly lines: readonly CostLine[];
  readonly unknownLines: readonly CostLine[];
  /** Resource types ignored as free, with their counts. */
  readonly freeResources: Readonly<Record<string, number>>;
  readonly assumptions: readonly string[];
  readonly notes: readonly string[];
  readonly warnings: readonly string[];
  /** Absent when no measured basis applies to this stack's model and hardware. */
  readonly benchmarkRun?: BenchmarkEstimate & { readonly usd: number };
  readonly spendGuard: SpendGuardSummary;
  /**
   * The deploy cache's storage, when the cluster uses one. Its line is in `lines` and in every total: S3 storage
   * accrues by the hour (byte-hours, billed as GB-months) whether or not the nodes run. It also stands apart here as
   * the monthly figure it keeps costing after the cluster stack is destroyed. Null figures: size or price unknown.
   */
  readonly deployCache?: DeployCacheSummary;
}

export interface DeployCacheSummary {
  readonly bucketName: string;
  readonly gb: number | null;
  /** Its share of the hourly total. */
  readonly hourlyUsd: number | null;
  /** What it costs a month, with or without the cluster. */
  readonly monthlyUsd: number | null;
}

/** Computes the cost review from the synthesized template: every billable resource is one or more lines. */
export function buildCostReport(input: CostReportInput): CostReport {
  const resources = ((input.template as CfnTemplate).Resources ?? {}) as Record<string, CfnResourceJson>;
  const table = input.prices ?? priceTable(input.region);
  const usage: UsageAssumptions = { ...DEFAULT_USAGE, ...input.usage };
  const ctx = new PricingContext(resources, input.region, table, usage, input.instancePrices ?? {});
  if (!table) {
    ctx.warn(`no dated price table for the services of region ${input.region} (lib/catalog/prices.ts has ` +
      `${Object.keys(PRICE_TABLES).join(', ')}): only instance prices are known there; every other billable line is unknown.`);
  }
  ctx.warnings.push(...(input.warnings ?? []));

  const freeResources: Record<string, number> = {};
  for (const [logicalId, resource] of Object.entries(resources)) {
    const pricer = PRICERS[resource.Type];
    if (pricer) {
      pricer(ctx, logicalId, resource.Properties ?? {});
    } else if (freeReason(resource.Type) !== undefined) {
      freeResources[resource.Type] = (freeResources[resource.Type] ?? 0) + 1;
    } else {
      ctx.unknown(logicalId, resource.Type, `${resource.Type}: no price known to the cost review`);
      ctx.warn(`${logicalId} (${resource.Type}) has no known price: listed as unknown, not counted. ` +
        'Price it in lib/cost/report.ts or list it as free in lib/cost/resource-types.ts.');
    }
  }

  const cache = input.deployCache;
  const cacheSummary = cache ? priceDeployCache(ctx, cache) : undefined;

  const lines = ctx.lines;
  const unknownLines = lines.filter((l) => l.hourlyUsd === null);
  const totalHourlyUsd = round(sum(lines.map((l) => l.hourlyUsd ?? 0)));
  const totalIsLowerBound = unknownLines.length > 0;
  if (totalIsLowerBound) {
    ctx.warn(`${unknownLines.length} line(s) have no known price: the totals are a lower bound.`);
  }
  const capacityBlock = lines.some((l) => l.pricing === 'capacity-block');
  if (capacityBlock) {
    ctx.notes.push('Capacity Block: the reservation fee for the whole block (all its instances × all its hours) is ' +
      'charged up front when you purchase the block, whether the instances run or not; stopping or deleting the ' +
      'stack does not refund it. The hourly figure is the block\'s effective rate; the real price is the UpfrontFee ' +
      'quoted by DescribeCapacityBlockOfferings at purchase.');
  }

  const benchmark = input.benchmark;
  return {
    region: input.region,
    currency: 'USD',
    priceDate: table?.priceDate ?? `instances ${INSTANCE_PRICE_SOURCE.asOf}; no dated table for other services`,
    priceSource: table?.source ?? `instances: ${INSTANCE_PRICE_SOURCE.source}; other services: none for ${input.region}`,
    capacityBlock,
    totalHourlyUsd,
    totalDailyUsd: round(totalHourlyUsd * 24),
    totalIsLowerBound,
    instancePriceUnknown: unknownLines.some((l) => l.resourceType === 'AWS::EC2::Instance' && l.unit === 'instance'),
    lines,
    unknownLines,
    freeResources,
    assumptions: [
      `NAT data processing: ${usage.natGbPerInstancePerDay} GB per EC2 instance per day (model weights + wheels, first day)`,
      `CloudWatch Logs ingestion: ${usage.logGbPerDayPerGroup} GB per log group per day`,
      `S3 storage: ${usage.bucketGb} GB per bucket`,
      ...(cache ? [`Deploy cache: ${usage.deployCacheGb ?? cache.gb ?? 'unknown'} GB in s3://${cache.bucketName} (${usage.deployCacheGb !== undefined ? 'given' : cache.basis})`] : []),
      'Internet data transfer out and cross-AZ traffic are not estimated.',
    ],
    notes: ctx.notes,
    warnings: ctx.warnings,
    ...(benchmark ? { benchmarkRun: { ...benchmark, usd: round(totalHourlyUsd * Math.max(0, benchmark.estimatedHours)) } } : {}),
    spendGuard: spendGuardSummary(spendGuardHours(resources), resources, lines, totalHourlyUsd, ctx),
    ...(cacheSummary ? { deployCache: cacheSummary } : {}),
  };
}

/**
 * buildCostReport with the optional live refresh: with `live`, the instance prices come from the AWS Price List API
 * (falling back to the dated table, with a warning, on any error).
 */
export async function reviewCost(input: CostReportInput & { readonly live?: boolean; readonly liveOptions?: LiveRefreshOptions }): Promise<CostReport> {
  if (!input.live) return buildCostReport(input);
  const refreshed = await refreshPricesLive(input.region, instanceTypesIn(input.template), input.liveOptions);
  return buildCostReport({
    ...input,
    prices: refreshed.prices ?? input.prices,
    instancePrices: refreshed.instancePrices,
    warnings: [...(input.warnings ?? []), ...refreshed.warnings],
  });
}

/** Every literal instance type the template's instances use, directly or through their launch templates. */
export function instanceTypesIn(template: object): string[] {
  const resources = ((template as CfnTemplate).Resources ?? {}) as Record<string, CfnResourceJson>;
  const types = new Set<string>();
  for (const r of Object.values(resources)) {
    if (r.Type === 'AWS::EC2::Instance' || r.Type === 'AWS::EC2::LaunchTemplate') {
      const data = (r.Properties?.LaunchTemplateData ?? {}) as Record<string, unknown>;
      const type = literalString(r.Properties?.InstanceType) ?? literalString(data.InstanceType);
      if (type) types.add(type);
    }
  }
  return [...types].sort();
}

/** Collects lines and warnings while the resources are priced. */
class PricingContext {
  readonly lines: CostLine[] = [];
  readonly warnings: string[] = [];
  readonly notes: string[] = [];
  readonly ec2InstanceCount: number;
  readonly natGatewayCount: number;

  constructor(
    readonly resources: Record<string, CfnResourceJson>,
    readonly region: string,
    readonly table: RegionPriceTable | undefined,
    readonly usage: UsageAssumptions,
    private readonly instancePrices: Readonly<Record<string, number>>,
  ) {
    const all = Object.values(resources);
    this.ec2InstanceCount = all.filter((r) => r.Type === 'AWS::EC2::Instance').length;
    this.natGatewayCount = all.filter((r) => r.Type === 'AWS::EC2::NatGateway').length;
  }

  /** On-demand hourly price of an instance type here: live, else the region's table, else the instance catalog. */
  instanceHourly(instanceType: string): number | undefined {
    return this.instancePrices[instanceType] ?? this.table?.ec2OnDemandHourly[instanceType]
      ?? INSTANCE_PRICES[instanceType]?.[this.region];
  }

  warn(message: string): void {
    if (!this.warnings.includes(message)) this.warnings.push(message);
  }

  add(line: Omit<CostLine, 'hourlyUsd' | 'dailyUsd' | 'stopsWithInstances'> & { stopsWithInstances?: boolean }): void {
    const hourly = line.unitHourlyUsd === null ? null : round(line.quantity * line.unitHourlyUsd);
    this.lines.push({
      ...line,
      unitHourlyUsd: line.unitHourlyUsd === null ? null : round(line.unitHourlyUsd),
      hourlyUsd: hourly,
      dailyUsd: hourly === null ? null : round(hourly * 24),
      stopsWithInstances: line.stopsWithInstances ?? false,
    });
  }

  unknown(logicalId: string, resourceType: string, description: string, quantity = 1, unit = 'each', note?: string): void {
    this.add({ logicalId, resourceType, description, quantity, unit, unitHourlyUsd: null, pricing: 'unknown', note });
  }

  /** A price from the table, or an unknown line (with the region warning already given) when there is no table. */
  priced(
    logicalId: string, resourceType: string, description: string, quantity: number, unit: string,
    price: (t: RegionPriceTable) => number | undefined, pricing: Pricing, note?: string,
  ): void {
    const unitHourly = this.table ? price(this.table) : undefined;
    if (unitHourly === undefined) {
      this.unknown(logicalId, resourceType, description, quantity, unit, note);
      return;
    }
    this.add({ logicalId, resourceType, description, quantity, unit, unitHourlyUsd: unitHourly, pricing, note });
  }
}

type Pricer = (ctx: PricingContext, logicalId: string, props: Readonly<Record<string, unknown>>) => void;

const PRICERS: Readonly<Record<string, Pricer>> = {
  'AWS::EC2::Instance': priceInstance,
  'AWS::EC2::Volume': (ctx, id, p) => priceVolume(ctx, id, 'AWS::EC2::Volume', 'EBS volume', {
    VolumeSize: p.Size, VolumeType: p.VolumeType, Iops: p.Iops, Throughput: p.Throughput,
  }),
  'AWS::EC2::NatGateway': (ctx, id) => {
    ctx.priced(id, 'AWS::EC2::NatGateway', 'NAT gateway', 1, 'gateway', (t) => t.natGatewayHour, 'fixed',
      'its Elastic IP is priced on its own line');
    const gbPerDay = (ctx.usage.natGbPerInstancePerDay * ctx.ec2InstanceCount) / Math.max(1, ctx.natGatewayCount);
    ctx.priced(id, 'AWS::EC2::NatGateway', 'NAT gateway data processing (estimate)', round(gbPerDay),
      'GB/day (estimate)', (t) => t.natGatewayPerGb / 24, 'usage-estimate',
      `assumes ${ctx.usage.natGbPerInstancePerDay} GB per instance per day × ${ctx.ec2InstanceCount} instances`);
  },
  'AWS::EC2::EIP': (ctx, id) => ctx.priced(id, 'AWS::EC2::EIP', 'Elastic IP (public IPv4 address)', 1, 'address',
    (t) => t.publicIpv4Hour, 'fixed'),
  'AWS::EC2::VPCEndpoint': priceEndpoint,
  'AWS::Logs::LogGroup': (ctx, id, p) => {
    const name = typeof p.LogGroupName === 'string' ? ` ${p.LogGroupName}` : '';
    ctx.priced(id, 'AWS::Logs::LogGroup', `CloudWatch Logs ingestion${name} (estimate)`, ctx.usage.logGbPerDayPerGroup,
      'GB/day (estimate)', (t) => t.logsIngestPerGb / 24, 'usage-estimate',
      `storage adds $${ctx.table?.logsStorageGbMonth ?? '?'}/GB-month` +
      (typeof p.RetentionInDays === 'number' ? ` for ${p.RetentionInDays} days retention` : ', retention unset (kept forever)'));
  },
  'AWS::S3::Bucket': (ctx, id) => ctx.priced(id, 'AWS::S3::Bucket', 'S3 Standard storage (estimate)',
    ctx.usage.bucketGb, 'GB (estimate)', (t) => t.s3StandardGbMonth / HOURS_PER_MONTH, 'usage-estimate',
    'requests are negligible at this scale'),
  'AWS::KMS::Key': (ctx, id) => ctx.priced(id, 'AWS::KMS::Key', 'KMS customer managed key', 1, 'key',
    (t) => t.kmsKeyMonth / HOURS_PER_MONTH, 'fixed'),
  'AWS::SecretsManager::Secret': (ctx, id) => ctx.priced(id, 'AWS::SecretsManager::Secret', 'Secrets Manager secret',
    1, 'secret', (t) => t.secretMonth / HOURS_PER_MONTH, 'fixed'),
  'AWS::Lambda::Function': (ctx, id) => negligible(ctx, id, 'AWS::Lambda::Function', 'Lambda function',
    (t) => `$${t.lambdaPerMillionRequests} per million requests + $${t.lambdaPerGbSecond}/GB-s; runs once per deploy`),
  'AWS::Scheduler::Schedule': (ctx, id) => negligible(ctx, id, 'AWS::Scheduler::Schedule', 'EventBridge Scheduler schedule',
    (t) => `$${t.schedulerPerMillionInvocations} per million invocations after the free tier; fires once`),
};

/**
 * The deploy cache's storage. It is in no template of this stack (its own stack, or the user's bucket), so it comes
 * from the cluster's CostInputs. It is one more line of the totals, billed whether or not the nodes run (so also in
 * the hourly cost after the spend guard's stop), and it keeps billing after `cdk destroy` of the cluster: the review
 * gives that monthly figure on its own.
 */
function priceDeployCache(ctx: PricingContext, cache: DeployCacheCost): DeployCacheSummary {
  const gb = ctx.usage.deployCacheGb ?? cache.gb;
  const description = `S3 Standard storage, deploy cache s3://${cache.bucketName} (estimate)`;
  const note = 'outlives this stack: it bills until you empty or delete it (README: the deploy cache)';
  if (gb === undefined) {
    ctx.unknown('DeployCache', 'AWS::S3::Bucket', description, 1, 'bucket', note);
    ctx.warn(`deploy cache size unknown (${cache.basis}): set CostInputs.usage.deployCacheGb to price it.`);
    return { bucketName: cache.bucketName, gb: null, hourlyUsd: null, monthlyUsd: null };
  }
  ctx.priced('DeployCache', 'AWS::S3::Bucket', description, gb, 'GB (estimate)',
    (t) => t.s3StandardGbMonth / HOURS_PER_MONTH, 'usage-estimate', note);
  const line = ctx.lines[ctx.lines.length - 1];
  const monthlyUsd = ctx.table ? round(gb * ctx.table.s3StandardGbMonth) : null;
  if (monthlyUsd !== null && line.hourlyUsd !== null) {
    ctx.notes.push(`The deploy cache (${gb} GB) is in the totals above at $${line.hourlyUsd.toFixed(6)}/h, as S3 storage accrues ` +
      `by the hour whether or not the nodes run; it costs about $${monthlyUsd.toFixed(2)} a month, also after the cluster is ` +
      'destroyed, until you empty or delete it.');
  }
  return { bucketName: cache.bucketName, gb, hourlyUsd: line.hourlyUsd, monthlyUsd };
}

function negligible(ctx: PricingContext, id: string, type: string, description: string,
  note: (t: RegionPriceTable) => string): void {
  ctx.priced(id, type, description, 1, 'each', () => 0, 'negligible',
    ctx.table ? `negligible: ${note(ctx.table)}` : undefined);
}

function priceInstance(ctx: PricingContext, logicalId: string, props: Readonly<Record<string, unknown>>): void {
  const lt = launchTemplateOf(ctx, logicalId, props);
  const ltData = (lt?.LaunchTemplateData ?? {}) as Record<string, unknown>;
  const via = lt ? ` (launch template ${lt.logicalId})` : '';
  const instanceType = literalString(props.InstanceType) ?? literalString(ltData.InstanceType);
  const type = 'AWS::EC2::Instance';

  for (const volume of blockDevices(props, ltData)) {
    priceVolume(ctx, logicalId, type, `volume ${literalString(volume.DeviceName) ?? ''}`.trim(),
      (volume.Ebs ?? {}) as Record<string, unknown>, via);
  }

  if (instanceType === undefined) {
    ctx.unknown(logicalId, type, `EC2 instance, type not resolvable at synth${via}`, 1, 'instance');
    ctx.warn(`${logicalId}: its instance type is not a literal in the template${via}; priced as unknown.`);
    return;
  }
  const spec = instanceSpec(instanceType);
  const marketType = literalString((ltData.InstanceMarketOptions as Record<string, unknown> | undefined)?.MarketType);
  const templateSaysBlock = marketType === 'capacity-block';
  const isGpu = spec?.kind === 'gpu';

  if (templateSaysBlock) {
    const rate = ctx.table?.capacityBlockHourly[instanceType];
    const description = `${instanceType} in a Capacity Block${via}`;
    if (!rate) {
      ctx.unknown(logicalId, type, description, 1, 'instance', 'Capacity Block: paid up front for the block');
      if (ctx.table) {
        ctx.warn(`no Capacity Block rate for ${instanceType} in ${ctx.table.region}: its compute line is unknown. ` +
          'Check the UpfrontFee from DescribeCapacityBlockOfferings.');
      }
      return;
    }
    ctx.add({
      logicalId, resourceType: type, description, quantity: 1, unit: 'instance', unitHourlyUsd: rate.hourlyUsd,
      pricing: 'capacity-block',
      note: `Capacity Block: reservation fee paid up front for the whole block; effective rate as of ${rate.asOf} ` +
        '(rates are reset regularly); the Linux OS fee while running is not included',
    });
    ctx.warn(`Capacity Block rate for ${instanceType} is a snapshot from ${rate.asOf}; the block costs what ` +
      'DescribeCapacityBlockOfferings quotes when you buy it.');
    return;
  }

  // An On-Demand Capacity Reservation bills the on-demand rate while it is active, whether the instance runs or not.
  const reservation = literalString(((ltData.CapacityReservationSpecification as Record<string, unknown> | undefined)
    ?.CapacityReservationTarget as Record<string, unknown> | undefined)?.CapacityReservationId);
  const what = reservation ? `${instanceType} in On-Demand Capacity Reservation ${reservation}` : `${instanceType} on-demand`;
  const hourly = ctx.instanceHourly(instanceType);
  const description = `${what}${isGpu ? ' (GPU node)' : ''}${via}`;
  if (hourly === undefined) ctx.unknown(logicalId, type, description, 1, 'instance');
  else ctx.add({ logicalId, resourceType: type, description, quantity: 1, unit: 'instance', unitHourlyUsd: hourly, pricing: 'on-demand' });
  const line = ctx.lines[ctx.lines.length - 1];
  // Without a reservation a stopped instance bills no compute, priced or not (EC2 User Guide, instance lifecycle).
  if (!reservation) ctx.lines[ctx.lines.length - 1] = { ...line, stopsWithInstances: true };
  if (line.pricing === 'on-demand' && reservation) {
    ctx.lines[ctx.lines.length - 1] = { ...line, note: 'reserved capacity bills whether or not the instance runs: stopping it saves nothing until the reservation is cancelled' };
    ctx.warn(`${logicalId} targets On-Demand Capacity Reservation ${reservation}: it bills at the on-demand rate until you ` +
      'cancel it (aws ec2 cancel-capacity-reservation), whether the nodes run, are stopped by the spend guard, or the stack is deleted.');
  } else if (line.pricing !== 'on-demand') {
    ctx.warn(`no on-demand price for ${instanceType} in ${ctx.region}: ${logicalId} is listed as unknown, and the ` +
      'totals with it.');
  }
}

interface LaunchTemplateRef {
  readonly logicalId: string;
  readonly LaunchTemplateData?: unknown;
}

/** Follows `LaunchTemplate.LaunchTemplateId` ({Ref} or {Fn::GetAtt}) to the template's launch template. */
function launchTemplateOf(ctx: PricingContext, instanceId: string, props: Readonly<Record<string, unknown>>): LaunchTemplateRef | undefined {
  const spec = props.LaunchTemplate as Record<string, unknown> | undefined;
  if (!spec) return undefined;
  const ref = referencedLogicalId(spec.LaunchTemplateId) ?? referencedLogicalId(spec.LaunchTemplateName);
  const target = ref ? ctx.resources[ref] : undefined;
  if (!ref || !target || target.Type !== 'AWS::EC2::LaunchTemplate') {
    ctx.warn(`${instanceId}: its launch template is not in this template; its type and volumes may be missing.`);
    return undefined;
  }
  return { logicalId: ref, LaunchTemplateData: target.Properties?.LaunchTemplateData };
}

function referencedLogicalId(value: unknown): string | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.Ref === 'string') return v.Ref;
  const getAtt = v['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  return undefined;
}

/** The instance's own mappings override the launch template's for the same device. */
function blockDevices(props: Readonly<Record<string, unknown>>, ltData: Record<string, unknown>): Record<string, unknown>[] {
  const byDevice = new Map<string, Record<string, unknown>>();
  const add = (list: unknown) => {
    if (!Array.isArray(list)) return;
    list.forEach((m, i) => {
      const mapping = m as Record<string, unknown>;
      if (!mapping.Ebs) return;
      byDevice.set(literalString(mapping.DeviceName) ?? `#${i}`, mapping);
    });
  };
  add(ltData.BlockDeviceMappings);
  add(props.BlockDeviceMappings);
  return [...byDevice.values()];
}

function priceVolume(ctx: PricingContext, logicalId: string, resourceType: string, what: string,
  ebs: Record<string, unknown>, via = ''): void {
  const size = literalNumber(ebs.VolumeSize);
  const volumeType = literalString(ebs.VolumeType) ?? 'gp2';
  const assumedType = ebs.VolumeType === undefined ? ' (type unset: EC2 default gp2 assumed)' : '';
  const description = `EBS ${volumeType} ${what}`.trim();
  if (size === undefined) {
    ctx.unknown(logicalId, resourceType, `${description}, size from the snapshot/AMI`, 1, 'volume');
    ctx.warn(`${logicalId}: an EBS volume has no literal VolumeSize; its size (from the AMI snapshot) is unknown.`);
    return;
  }
  ctx.priced(logicalId, resourceType, `${description} ${size} GiB${assumedType}${via}`, size, 'GB',
    (t) => (t.ebs.gbMonth[volumeType] === undefined ? undefined : t.ebs.gbMonth[volumeType] / HOURS_PER_MONTH), 'fixed');
  if (volumeType !== 'gp3' || !ctx.table) return;
  const ebsPrices = ctx.table.ebs;
  const iops = literalNumber(ebs.Iops) ?? ebsPrices.gp3BaselineIops;
  const throughput = literalNumber(ebs.Throughput) ?? ebsPrices.gp3BaselineThroughputMbps;
  if (iops > ebsPrices.gp3BaselineIops) {
    ctx.priced(logicalId, resourceType, `gp3 IOPS above the ${ebsPrices.gp3BaselineIops} baseline`,
      iops - ebsPrices.gp3BaselineIops, 'IOPS', (t) => t.ebs.gp3IopsMonth / HOURS_PER_MONTH, 'fixed');
  }
  if (throughput > ebsPrices.gp3BaselineThroughputMbps) {
    ctx.priced(logicalId, resourceType, `gp3 throughput above the ${ebsPrices.gp3BaselineThroughputMbps} MB/s baseline`,
      throughput - ebsPrices.gp3BaselineThroughputMbps, 'MB/s', (t) => t.ebs.gp3ThroughputMbpsMonth / HOURS_PER_MONTH, 'fixed');
  }
}

function priceEndpoint(ctx: PricingContext, logicalId: string, props: Readonly<Record<string, unknown>>): void {
  const type = 'AWS::EC2::VPCEndpoint';
  const endpointType = literalString(props.VpcEndpointType) ?? 'Gateway';
  const service = describeServiceName(props.ServiceName);
  if (endpointType === 'Gateway') {
    ctx.add({ logicalId, resourceType: type, description: `gateway endpoint ${service}`, quantity: 1, unit: 'endpoint',
      unitHourlyUsd: 0, pricing: 'fixed', note: 'free' });
    return;
  }
  if (endpointType !== 'Interface') {
    ctx.unknown(logicalId, type, `${endpointType} endpoint ${service}`, 1, 'endpoint');
    ctx.warn(`${logicalId}: ${endpointType} VPC endpoints have no price in the cost review.`);
    return;
  }
  const subnets = Array.isArray(props.SubnetIds) ? props.SubnetIds.length : 0;
  if (subnets === 0) {
    ctx.unknown(logicalId, type, `interface endpoint ${service}, AZ count not resolvable at synth`, 1, 'AZ');
    ctx.warn(`${logicalId}: interface endpoint without a literal SubnetIds list; its AZ count is unknown.`);
    return;
  }
  ctx.priced(logicalId, type, `interface endpoint ${service}`, subnets, 'AZ', (t) => t.interfaceEndpointAzHour, 'fixed',
    ctx.table ? `plus $${ctx.table.interfaceEndpointPerGb}/GB processed (small for control-plane traffic)` : undefined);
}

/** `com.amazonaws.<region>.ssm` is usually built with Fn::Join; show the service suffix. */
function describeServiceName(value: unknown): string {
  if (typeof value === 'string') return value.replace(/^com\.amazonaws\.[^.]+\./, '');
  const join = (value as Record<string, unknown> | undefined)?.['Fn::Join'];
  if (Array.isArray(join) && Array.isArray(join[1])) {
    const last: unknown = join[1][join[1].length - 1];
    if (typeof last === 'string') return last.replace(/^\./, '');
  }
  return '(service from a token)';
}

/** The spend guard's hours, as the template's stop-time custom resource carries them; 0 when there is none. */
function spendGuardHours(resources: Record<string, CfnResourceJson>): number {
  const stopTime = Object.values(resources).find((r) => r.Type === SPEND_GUARD_RESOURCE_TYPE);
  const hours = Number(stopTime?.Properties?.MaxHours);
  return Number.isFinite(hours) && hours > 0 ? hours : 0;
}

function spendGuardSummary(maxHours: number, resources: Record<string, CfnResourceJson>, lines: readonly CostLine[],
  totalHourlyUsd: number, ctx: PricingContext): SpendGuardSummary {
  const schedules = Object.entries(resources).filter(([, r]) =>
    r.Type === 'AWS::Scheduler::Schedule' && JSON.stringify(r.Properties?.Target ?? {}).includes('ec2:stopInstances'));
  if (maxHours <= 0) {
    const warning = 'SPEND GUARD OFF (maxHours=0): nothing stops the GPU nodes; they bill ' +
      `$${totalHourlyUsd.toFixed(2)}/h until you delete the stack.`;
    ctx.warn(warning);
    if (schedules.length > 0) ctx.warn('maxHours is 0 but the template still has a stop schedule.');
    return { enabled: false, maxHours: 0, costAtStopUsd: 'off', warning };
  }
  const targets = new Set<string>();
  for (const [, schedule] of schedules) {
    const input = JSON.stringify((schedule.Properties?.Target as Record<string, unknown> | undefined)?.Input ?? '');
    for (const match of input.matchAll(/\\?"Ref\\?"\s*:\s*\\?"([A-Za-z0-9]+)\\?"/g)) targets.add(match[1]);
  }
  if (schedules.length === 0) {
    ctx.warn(`maxHours=${maxHours} but the template has no EventBridge Scheduler stopInstances schedule.`);
  }
  const stopped = lines.filter((l) => l.stopsWithInstances && targets.has(l.logicalId));
  const stoppedHourlyUsd = round(sum(stopped.map((l) => l.hourlyUsd ?? 0)));
  const hourlyAfterStopUsd = round(totalHourlyUsd - stoppedHourlyUsd);
  const unpricedAfterStop = lines.filter((l) => l.hourlyUsd === null && !stopped.includes(l));
  const hourlyAfterStopCertainty = unpricedAfterStop.some((l) => l.resourceType === 'AWS::EC2::Instance' && l.unit === 'instance')
    ? 'unknown' : unpricedAfterStop.length > 0 ? 'lower-bound' : 'exact';
  if (lines.some((l) => l.pricing === 'capacity-block')) {
    ctx.notes.push('With a Capacity Block the spend guard stops the nodes but saves nothing on the reservation, ' +
      'which is already paid; volumes, NAT gateway and addresses keep billing either way until the stack is deleted.');
  }
  return {
    enabled: true,
    maxHours,
    scheduleLogicalIds: schedules.map(([id]) => id),
    targetInstanceLogicalIds: [...targets].sort(),
    stopTime: `${maxHours} h after the GPU nodes start, at creation and at every later start (exact time: stack output SpendGuardStopTime, or the schedule)`,
    costAtStopUsd: round(totalHourlyUsd * maxHours),
    stoppedHourlyUsd,
    stoppedInstances: stopped.filter((l) => l.unit === 'instance').length,
    stoppedUnpriced: stopped.filter((l) => l.unit === 'instance' && l.hourlyUsd === null).length,
    hourlyAfterStopUsd,
    hourlyAfterStopCertainty,
  };
}

function literalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function literalNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value)) return Number(value);
  return undefined;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** Six decimals keep sub-cent hourly prices exact while removing float noise from sums. */
function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
