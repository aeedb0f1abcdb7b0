import { RegionInfo } from 'aws-cdk-lib/region-info';

/**
 * Which regions offer each catalog instance type, offline and dated, so that a region where the GPU type is not
 * sold fails at synth instead of at launch. Read from SkyPilot's public AWS catalog (skypilot-org/skypilot-catalog,
 * `catalogs/v8/aws/vms.csv`, commit 00148f2af3672e2229b4f7bf8157d5a3f36e3c35), which lists every region and zone
 * where DescribeInstanceTypeOfferings returned the type. For the CPU head types the family's rows were read
 * (m7i, c7i: every size of a family is offered in the same regions there). `npm run preflight` asks the live API.
 */
export const REGION_CATALOG_SOURCE = {
  asOf: '2026-11-29',
  source: 'SkyPilot AWS catalog (github.com/skypilot-org/skypilot-catalog, catalogs/v8/aws/vms.csv @ 00148f2)',
} as const;

const M7I_REGIONS = [
  'ap-east-1', 'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-south-1', 'ap-southeast-1', 'ap-southeast-2',
  'ap-southeast-3', 'ap-southeast-4', 'ca-central-1', 'eu-central-1', 'eu-north-1', 'eu-south-1', 'eu-south-2',
  'eu-west-1', 'eu-west-2', 'eu-west-3', 'me-central-1', 'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2',
];
const C7I_REGIONS = M7I_REGIONS.filter((r) => r !== 'eu-south-1');

/** Regions offering each instance type of lib/catalog/instances.ts. */
export const REGIONS_OFFERING: Readonly<Record<string, readonly string[]>> = {
  'p5.48xlarge': [
    'ap-northeast-1', 'ap-northeast-2', 'ap-south-1', 'ap-southeast-2', 'ap-southeast-3', 'ca-central-1', 'eu-north-1',
    'eu-west-2', 'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2',
  ],
  'p5e.48xlarge': ['ap-southeast-2', 'ap-southeast-3', 'eu-north-1', 'eu-west-2', 'us-east-2', 'us-west-2'],
  'p5en.48xlarge': [
    'ap-northeast-1', 'ap-northeast-2', 'ap-south-1', 'ap-southeast-3', 'eu-north-1', 'eu-south-2', 'me-central-1',
    'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2',
  ],
  'p4d.24xlarge': [
    'ap-northeast-1', 'ap-northeast-2', 'ap-south-1', 'ap-southeast-2', 'ca-central-1', 'eu-central-1', 'eu-north-1',
    'eu-west-1', 'eu-west-2', 'us-east-1', 'us-east-2', 'us-west-2',
  ],
  'p6-b200.48xlarge': ['us-east-1', 'us-east-2', 'us-west-2'],
  'm7i.xlarge': M7I_REGIONS,
  'm7i.2xlarge': M7I_REGIONS,
  'm7i.4xlarge': M7I_REGIONS,
  'm7i.8xlarge': M7I_REGIONS,
  'c7i.4xlarge': C7I_REGIONS,
};

/** Every region aws-cdk-lib's own region database knows (it ships with the pinned aws-cdk-lib). */
export function knownRegions(): readonly string[] {
  return RegionInfo.regions.map((r) => r.name);
}

/** Regions offering the type, or undefined when the type is not in the catalog at all. */
export function regionsOffering(instanceType: string): readonly string[] | undefined {
  return Object.prototype.hasOwnProperty.call(REGIONS_OFFERING, instanceType) ? REGIONS_OFFERING[instanceType] : undefined;
}
