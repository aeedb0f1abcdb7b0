import { GPU_INSTANCES } from '../catalog/instances';
import { REFERENCE_EXAMPLE } from '../catalog/reference-example';
import { REGION_CATALOG_SOURCE, regionsOffering } from '../catalog/regions';
import { LAYOUT_SETTING_KEYS, REFERENCE_LAYOUTS, REFERENCE_SETTINGS, describeLayout, layoutProblems } from '../study/layouts';
import { WORKLOADS, workloadTokens } from '../study/workloads';
import type { ClusterConfig } from './cluster-config';
import { invalid } from './errors';

/**
 * Rules between settings, each naming the setting the user should change. They run after every setting has been
 * read on its own, and a rule is skipped when a setting it reads was itself invalid (one mistake, one message).
 */
export interface CrossSettingRule {
  /** Every setting the rule reads. */
  readonly reads: ReadonlyArray<keyof ClusterConfig>;
  /** Problems found (one line each), given the settings and which of them the user set explicitly. */
  readonly check: (c: ClusterConfig, isSet: (key: keyof ClusterConfig) => boolean) => readonly string[];
}

const gpuOf = (c: ClusterConfig) => GPU_INSTANCES[c.gpuInstanceType];
/** P5RayDeployCache's bucket name, p5-ray-cache-<account>-<region>: the region it was made in. */
const DEPLOY_CACHE_BUCKET_OF_REGION = /^p5-ray-cache-\d{12}-([a-z]{2}(?:-[a-z]+)+-\d)$/;
const divisors = (n: number) => Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);
const TP_KEYS = ['tensorParallelSize', 'prefillTensorParallelSize', 'decodeTensorParallelSize'] as const;

export const RULES: readonly CrossSettingRule[] = [
  {
    reads: ['region', 'availabilityZone'],
    check: (c, isSet) => (isSet('availabilityZone') && !c.availabilityZone.startsWith(c.region)
      ? [invalid('availabilityZone', c.availabilityZone, `must be a zone of region ${c.region} (${c.region}a, ${c.region}b, …)`)] : []),
  },
  {
    reads: ['region', 'gpuInstanceType', 'headInstanceType', 'ignoreRegionCatalog'],
    check: (c) => {
      if (c.ignoreRegionCatalog) return [];
      const types = [['gpuInstanceType', c.gpuInstanceType], ['headInstanceType', c.headInstanceType]] as const;
      return types.flatMap(([key, type]) => {
        const regions = regionsOffering(type);
        if (regions === undefined || regions.includes(c.region)) return [];
        return [invalid('region', c.region, `${type} (${key}) is not sold there according to the offline region ` +
          `catalog of ${REGION_CATALOG_SOURCE.asOf}; regions that offer it: ${regions.join(', ')} ` +
          '(if the catalog is stale, set ignoreRegionCatalog=true and run npm run preflight)')];
      });
    },
  },
  {
    // One replica's TP ranks sit on one node (STRICT_PACK): a TP group across nodes would run its all-reduces over
    // the network. Dividing the node's GPUs also lets replicas fill every node.
    reads: ['gpuInstanceType', 'tensorParallelSize', 'prefillTensorParallelSize', 'decodeTensorParallelSize'],
    check: (c, isSet) => {
      const gpus = gpuOf(c).gpus;
      // The side sizes default to tensorParallelSize: report only what the user wrote, one mistake once.
      return TP_KEYS.filter((key) => gpus % c[key] !== 0 && (key === 'tensorParallelSize' || isSet(key))).map((key) => invalid(key, c[key],
        `must divide the ${gpus} GPUs per ${c.gpuInstanceType} node (allowed: ${divisors(gpus).join(', ')})`));
    },
  },
  {
    // The reference profile reproduces the example's table: its layouts are fixed. Restating its value is fine (the
    // construct passes every setting of a parsed configuration back as a prop).
    reads: ['profile', ...LAYOUT_SETTING_KEYS],
    check: (c, isSet) => (c.profile !== 'reference' ? [] : LAYOUT_SETTING_KEYS.filter((key) => isSet(key) && c[key] !== REFERENCE_SETTINGS[key]).map((key) =>
      invalid(key, c[key], `profile=reference fixes every layout to the reference example's (${REFERENCE_EXAMPLE.name}: ` +
        `${describeLayout(REFERENCE_LAYOUTS.collocated)} collocated, ${describeLayout(REFERENCE_LAYOUTS.pd)} PD); ` +
        `leave ${key} unset, or use profile=full-cluster for your own layout`))),
  },
  {
    reads: ['gpuInstanceType', 'gpuNodes', ...LAYOUT_SETTING_KEYS],
    check: (c) => {
      // A TP size that fits no node is reported by the rule above; the layout cannot be placed at all then.
      if (TP_KEYS.some((key) => gpuOf(c).gpus % c[key] !== 0)) return [];
      return layoutProblems(c).map((p) => invalid(p.key, c[p.key], p.allowed));
    },
  },
  {
    reads: ['gpuInstanceType', 'lmcacheCpuGbPerRank'],
    check: (c) => {
      const gpu = gpuOf(c);
      const budget = Math.floor(gpu.memoryGiB * 0.75);
      const total = c.lmcacheCpuGbPerRank * gpu.gpus;
      return total <= budget ? [] : [invalid('lmcacheCpuGbPerRank', c.lmcacheCpuGbPerRank,
        `${gpu.gpus} TP ranks per ${c.gpuInstanceType} node × ${c.lmcacheCpuGbPerRank} GB = ${total} GB pinned RAM ` +
        `exceeds 75% of its ${gpu.memoryGiB} GiB (at most ${Math.floor(budget / gpu.gpus)} GB per rank)`)];
    },
  },
  {
    reads: ['gpuInstanceType', 'lmcacheDiskGb'],
    check: (c) => {
      const gpu = gpuOf(c);
      const usable = gpu.nvmeDisks * gpu.nvmeDiskGB * 0.8;
      return c.lmcacheDiskGb * gpu.gpus <= usable ? [] : [invalid('lmcacheDiskGb', c.lmcacheDiskGb,
        `${gpu.gpus} ranks × ${c.lmcacheDiskGb} GB exceeds 80% of the ${gpu.nvmeDisks * gpu.nvmeDiskGB} GB NVMe instance ` +
        `store (at most ${Math.floor(usable / gpu.gpus)} GB per rank)`)];
    },
  },
  {
    reads: ['maxModelLen'],
    check: (c) => {
      const longest = Math.max(...WORKLOADS.map(workloadTokens));
      if (c.maxModelLen >= longest) return [];
      const worst = WORKLOADS.filter((w) => workloadTokens(w) === longest).map((w) => w.mode).join(', ');
      return [invalid('maxModelLen', c.maxModelLen,
        `the ${worst} benchmark workload needs ${longest} tokens (input + output) per request: at least ${longest}`)];
    },
  },
  {
    reads: ['capacityBlock', 'capacityReservationId'],
    check: (c) => (c.capacityBlock && c.capacityReservationId === undefined
      ? [invalid('capacityBlock', true, 'a Capacity Block launch needs capacityReservationId=cr-… (the block\'s reservation id)')] : []),
  },
  {
    reads: ['capacityBlock', 'placementGroupName'],
    check: (c) => (c.capacityBlock && c.placementGroupName !== undefined
      ? [invalid('placementGroupName', c.placementGroupName, 'a Capacity Block is placed by AWS: launch it without a placement group')] : []),
  },
  {
    reads: ['vpcId', 'subnetId'],
    check: (c) => [
      ...(c.vpcId !== undefined && c.subnetId === undefined
        ? [invalid('vpcId', c.vpcId, 'an existing VPC also needs subnetId: a private subnet in availabilityZone with NAT egress')] : []),
      ...(c.subnetId !== undefined && c.vpcId === undefined
        ? [invalid('subnetId', c.subnetId, 'needs vpcId, the VPC the subnet belongs to')] : []),
    ],
  },
  {
    reads: ['deployCache', 'cacheBucketName'],
    check: (c) => (c.cacheBucketName !== undefined && !c.deployCache
      ? [invalid('cacheBucketName', c.cacheBucketName, 'names the deploy cache: also set deployCache=true, or leave it unset')] : []),
  },
  {
    // The one bucket whose region synth can know: P5RayDeployCache's, named p5-ray-cache-<account>-<region>
    // (lib/cache/deploy-cache.ts). The nodes' CRT transfer client fails on a bucket of another region (AWS CLI topic
    // s3-config): each deploy would miss the cache. Any other name is checked by `npm run preflight` (S3 HeadBucket).
    reads: ['region', 'cacheBucketName'],
    check: (c) => {
      const other = c.cacheBucketName === undefined ? undefined : DEPLOY_CACHE_BUCKET_OF_REGION.exec(c.cacheBucketName)?.[1];
      return other !== undefined && other !== c.region ? [invalid('cacheBucketName', c.cacheBucketName,
        `is the deploy-cache bucket of region ${other}, the stack's region is ${c.region}: the nodes' AWS CLI (CRT transfer ` +
        `client) fails on a bucket of another region; leave cacheBucketName unset to use ${c.region}'s, or name a bucket in ${c.region}`)] : [];
    },
  },
  {
    // A guard that fires during the bootstrap stops the nodes before they can report ready: the deploy then waits
    // out the whole timeout and rolls back, billing all the while.
    reads: ['maxHours', 'bootstrapTimeoutMinutes'],
    check: (c) => {
      const least = minimumGuardHours(c.bootstrapTimeoutMinutes);
      return c.maxHours > 0 && c.maxHours < least ? [invalid('maxHours', c.maxHours,
        `the spend guard would stop the GPU nodes before they finish bootstrapping (bootstrapTimeoutMinutes=` +
        `${c.bootstrapTimeoutMinutes}); use 0 (off) or at least ${least}`)] : [];
    },
  },
];

/** The shortest spend guard that cannot fire during the bootstrap: its timeout + 30 min, rounded up to half hours. */
export function minimumGuardHours(bootstrapTimeoutMinutes: number): number {
  return Math.ceil((bootstrapTimeoutMinutes / 60 + 0.5) * 2) / 2;
}
