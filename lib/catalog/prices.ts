/**
 * The price table: one dated entry per region, the single home of every unit price the cost review uses.
 * A price that could not be established is absent, never zero, so the report lists it as unknown.
 *
 * Hourly compute prices are on-demand Linux, shared tenancy. Monthly prices are converted with
 * HOURS_PER_MONTH (AWS's own 730-hour month).
 */
import { REGION_CATALOG_SOURCE } from './regions';

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

/**
 * On-demand Linux hourly prices of every catalog instance type, by region: the AWS Price List figures as SkyPilot's
 * public AWS catalog records them (the same file as the region catalog, lib/catalog/regions.ts). A region missing
 * from a type's list has no known on-demand price (p5e.48xlarge has none anywhere: it is sold through Capacity
 * Blocks). m7i and c7i sizes are priced linearly within their family, as AWS prices them.
 */
export const INSTANCE_PRICE_SOURCE = {
  asOf: REGION_CATALOG_SOURCE.asOf,
  source: `AWS On-Demand Linux prices as recorded in the ${REGION_CATALOG_SOURCE.source}; ` +
    '`-c livePrices=true` reads the AWS Price List API instead',
} as const;

const M7I_2XLARGE: Readonly<Record<string, number>> = {
  'ap-east-1': 0.5544, 'ap-northeast-1': 0.5208, 'ap-northeast-2': 0.4956, 'ap-northeast-3': 0.5208, 'ap-south-1': 0.4242,
  'ap-southeast-1': 0.504, 'ap-southeast-2': 0.504, 'ap-southeast-3': 0.504, 'ap-southeast-4': 0.504, 'ca-central-1': 0.4494,
  'eu-central-1': 0.483, 'eu-north-1': 0.4284, 'eu-south-1': 0.4704, 'eu-south-2': 0.4494, 'eu-west-1': 0.4494,
  'eu-west-2': 0.4662, 'eu-west-3': 0.4704, 'me-central-1': 0.49436, 'us-east-1': 0.4032, 'us-east-2': 0.4032,
  'us-west-1': 0.4704, 'us-west-2': 0.4032,
};
const C7I_XLARGE: Readonly<Record<string, number>> = {
  'ap-east-1': 0.2268, 'ap-northeast-1': 0.2247, 'ap-northeast-2': 0.2016, 'ap-northeast-3': 0.2247, 'ap-south-1': 0.1785,
  'ap-southeast-1': 0.2058, 'ap-southeast-2': 0.2331, 'ap-southeast-3': 0.2058, 'ap-southeast-4': 0.2331, 'ca-central-1': 0.1953,
  'eu-central-1': 0.2037, 'eu-north-1': 0.1911, 'eu-south-2': 0.1915, 'eu-west-1': 0.19152, 'eu-west-2': 0.2121,
  'eu-west-3': 0.2121, 'me-central-1': 0.2145, 'us-east-1': 0.1785, 'us-east-2': 0.1785, 'us-west-1': 0.2226, 'us-west-2': 0.1785,
};
const scaled = (base: Readonly<Record<string, number>>, factor: number) =>
  Object.fromEntries(Object.entries(base).map(([region, usd]) => [region, Math.round(usd * factor * 1e6) / 1e6]));

export const INSTANCE_PRICES: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  'p5.48xlarge': {
    'ap-northeast-1': 68.8, 'ap-northeast-2': 75.9552, 'ap-south-1': 66.048, 'ap-southeast-2': 71.552,
    'ap-southeast-3': 75.9552, 'ca-central-1': 63.296, 'eu-north-1': 58.8928, 'eu-west-2': 71.552, 'us-east-1': 55.04,
    'us-east-2': 55.04, 'us-west-1': 68.8, 'us-west-2': 55.04,
  },
  'p5en.48xlarge': {
    'ap-northeast-1': 79.12, 'ap-northeast-2': 87.34848, 'ap-south-1': 75.9552, 'ap-southeast-3': 87.34848,
    'eu-north-1': 67.72672, 'eu-south-2': 68.35968, 'me-central-1': 75.9552, 'us-east-1': 63.296, 'us-east-2': 63.296,
    'us-west-1': 79.12, 'us-west-2': 63.296,
  },
  'p4d.24xlarge': {
    'ap-northeast-1': 30.09784, 'ap-northeast-2': 30.41028, 'ap-south-1': 26.3444, 'ap-southeast-2': 28.54493,
    'ca-central-1': 25.25174, 'eu-central-1': 27.43298, 'eu-north-1': 23.71569, 'eu-west-1': 23.71569,
    'eu-west-2': 28.54493, 'us-east-1': 21.95764, 'us-east-2': 21.95764, 'us-west-2': 21.95764,
  },
  'p6-b200.48xlarge': { 'us-east-1': 113.9328, 'us-east-2': 113.9328, 'us-west-2': 113.9328 },
  'm7i.xlarge': scaled(M7I_2XLARGE, 0.5),
  'm7i.2xlarge': M7I_2XLARGE,
  'm7i.4xlarge': scaled(M7I_2XLARGE, 2),
  'm7i.8xlarge': scaled(M7I_2XLARGE, 4),
  'c7i.4xlarge': scaled(C7I_XLARGE, 4),
};

/** The on-demand prices of every catalog type in one region (types without a price there are absent). */
export function instancePricesIn(region: string): Record<string, number> {
  const prices: Record<string, number> = {};
  for (const [type, byRegion] of Object.entries(INSTANCE_PRICES)) {
    if (Object.prototype.hasOwnProperty.call(byRegion, region)) prices[type] = byRegion[region];
  }
  return prices;
}

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
    priceDate: `instances ${INSTANCE_PRICE_SOURCE.asOf}, other services 2025-12`,
    source: `instances: ${INSTANCE_PRICE_SOURCE.source}; other services: AWS public pricing pages for ${region} (2025-12)`,
    ec2OnDemandHourly: instancePricesIn(region),
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
