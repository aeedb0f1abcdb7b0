/**
 * The price table: one dated entry per region, the single home of every unit price the cost review uses.
 * A price that could not be established is absent, never zero, so the report lists it as unknown.
 *
 * Hourly compute prices are on-demand Linux, shared tenancy. Monthly prices are converted with
 * HOURS_PER_MONTH (AWS's own 730-hour month).
 */
export const HOURS_PER_MONTH = 730;

export interface CapacityBlockRate {
  /** The block's effective hourly rate per instance, paid up front for the whole block at purchase. */
  readonly hourlyUsd: number;
  /** When this rate was published: Capacity Block rates are reset regularly and vary with supply and demand. */
  readonly asOf: string;
  readonly source: string;
}

export interface RegionPriceTable {
  readonly region: string;
  /** When the prices were checked (ISO date or month). */
  readonly priceDate: string;
  readonly source: string;
  /** On-demand Linux hourly price by instance type. Absent = unknown. */
  readonly ec2OnDemandHourly: Readonly<Record<string, number>>;
  /** Capacity Block reservation rates by instance type. Absent = unknown. */
  readonly capacityBlockHourly: Readonly<Record<string, CapacityBlockRate>>;
  readonly ebs: {
    /** USD per GB-month by volume type. */
    readonly gbMonth: Readonly<Record<string, number>>;
    readonly gp3IopsMonth: number;
    readonly gp3ThroughputMbpsMonth: number;
    readonly gp3BaselineIops: number;
    readonly gp3BaselineThroughputMbps: number;
  };
  readonly natGatewayHour: number;
  readonly natGatewayPerGb: number;
  readonly interfaceEndpointAzHour: number;
  readonly interfaceEndpointPerGb: number;
  /** In-use public IPv4 address (Elastic IP or auto-assigned), per hour, since February 2024. */
  readonly publicIpv4Hour: number;
  readonly logsIngestPerGb: number;
  readonly logsStorageGbMonth: number;
  readonly s3StandardGbMonth: number;
  readonly kmsKeyMonth: number;
  readonly secretMonth: number;
  /** Listed so the report can say why these lines are negligible rather than silently zero. */
  readonly lambdaPerMillionRequests: number;
  readonly lambdaPerGbSecond: number;
  readonly schedulerPerMillionInvocations: number;
}

const ON_DEMAND_SOURCE =
  'AWS EC2 On-Demand pricing (Linux); GPU prices after AWS\'s June 2025 P4/P5 price cut, as published by ' +
  'third-party price lists in Dec 2025; `-c livePrices=true` reads the AWS Price List API instead';

const CAPACITY_BLOCK_SOURCE =
  'AWS "EC2 Capacity Blocks for ML Pricing" page snapshot (rates valid until the 2025-01-01 reset)';

/**
 * The three US regions the project targets share every price used here. Sources: the AWS pricing pages for EC2,
 * EBS, VPC (NAT gateway, PrivateLink, public IPv4), CloudWatch, S3, KMS, Secrets Manager, Lambda and EventBridge
 * Scheduler, cross-checked against third-party summaries (e.g. NAT gateway $0.045/h + $0.045/GB in US East,
 * 2026 guides).
 */
function usRegion(region: string, capacityBlocks: Record<string, CapacityBlockRate>): RegionPriceTable {
  return {
    region,
    priceDate: '2025-12',
    source: `${ON_DEMAND_SOURCE}; other services: AWS public pricing pages for ${region}`,
    ec2OnDemandHourly: {
      'p5.48xlarge': 55.04,
      'p5en.48xlarge': 63.296,
      'p4d.24xlarge': 21.96,
      // p5e.48xlarge and p6-b200.48xlarge: no on-demand list price established (sold mainly through
      // Capacity Blocks / savings plans), so they are deliberately absent.
      'm7i.xlarge': 0.2016,
      'm7i.2xlarge': 0.4032,
      'm7i.4xlarge': 0.8064,
      'm7i.8xlarge': 1.6128,
      'c7i.4xlarge': 0.714,
    },
    capacityBlockHourly: capacityBlocks,
    ebs: {
      gbMonth: { gp3: 0.08, gp2: 0.10, io1: 0.125, io2: 0.125, st1: 0.045, sc1: 0.015, standard: 0.05 },
      gp3IopsMonth: 0.005,
      gp3ThroughputMbpsMonth: 0.04,
      gp3BaselineIops: 3000,
      gp3BaselineThroughputMbps: 125,
    },
    natGatewayHour: 0.045,
    natGatewayPerGb: 0.045,
    interfaceEndpointAzHour: 0.01,
    interfaceEndpointPerGb: 0.01,
    publicIpv4Hour: 0.005,
    logsIngestPerGb: 0.50,
    logsStorageGbMonth: 0.03,
    s3StandardGbMonth: 0.023,
    kmsKeyMonth: 1.0,
    secretMonth: 0.40,
    lambdaPerMillionRequests: 0.20,
    lambdaPerGbSecond: 0.0000166667,
    schedulerPerMillionInvocations: 1.0,
  };
}

const cb = (hourlyUsd: number): CapacityBlockRate => ({ hourlyUsd, asOf: '2024-12', source: CAPACITY_BLOCK_SOURCE });

export const PRICE_TABLES: Readonly<Record<string, RegionPriceTable>> = {
  'us-east-1': usRegion('us-east-1', { 'p5.48xlarge': cb(39.33) }),
  'us-east-2': usRegion('us-east-2', { 'p5.48xlarge': cb(39.33), 'p4d.24xlarge': cb(14.75) }),
  // p5 Capacity Blocks exist in us-west-2 but no published rate was found: unknown, reported with a warning.
  'us-west-2': usRegion('us-west-2', { 'p4d.24xlarge': cb(14.75) }),
};

export function priceTable(region: string): RegionPriceTable | undefined {
  return Object.prototype.hasOwnProperty.call(PRICE_TABLES, region) ? PRICE_TABLES[region] : undefined;
}
