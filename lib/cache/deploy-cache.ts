import {
  Aws, Stack, StackProps, Validations, aws_iam as iam, aws_s3 as s3,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { DEPLOY_CACHE_PREFIX } from '../catalog/paths';
import type { ClusterConfig } from '../config/cluster-config';
import { cacheObjectsFinding } from '../nag/finding-ids';
import { disposableBucket } from '../storage/artifacts-bucket';

/**
 * The opt-in deploy cache (setting `deployCache`): an S3 bucket that outlives the cluster stack, holding what the
 * first successful boot built or downloaded (venv archives, the LMCache wheel, the model weights), so that a repeat
 * deploy restores it over the S3 gateway endpoint instead. The bucket is either one the user names
 * (`cacheBucketName`) or the one of DeployCacheStack, a separate stack, so `cdk destroy` of the cluster leaves it.
 */

/** The separate stack's name: one deploy cache per account and region, shared by every cluster there. */
export const DEPLOY_CACHE_STACK_NAME = 'P5RayDeployCache';

/** The bucket DeployCacheStack creates, by a name every cluster can compute without a cross-stack reference. */
export function defaultDeployCacheBucketName(region: string): string {
  return `p5-ray-cache-${Aws.ACCOUNT_ID}-${region}`;
}

/** The cache bucket of a cluster: the named one, or DeployCacheStack's; undefined with `deployCache` off. */
export function deployCacheBucketName(config: ClusterConfig): string | undefined {
  if (!config.deployCache) return undefined;
  return config.cacheBucketName ?? defaultDeployCacheBucketName(config.region);
}

/**
 * The key prefixes a node role reads and writes in the cache: GPU nodes their venv, the LMCache wheels and this
 * model's weights; the CPU head only its venv. Keys below them are laid out by lib/bootstrap/python/deploy_cache.py.
 */
export function deployCachePrefixes(config: ClusterConfig, role: 'gpu' | 'head'): string[] {
  if (role === 'head') return [`${DEPLOY_CACHE_PREFIX}venv/cpu/`];
  return [`${DEPLOY_CACHE_PREFIX}venv/gpu/`, `${DEPLOY_CACHE_PREFIX}lmcache/`,
    `${DEPLOY_CACHE_PREFIX}models/${config.model.replace('/', '--')}/`];
}

/**
 * Lets a node role restore and fill its prefixes of the cache, nothing else in the bucket: objects read and
 * written (and multipart uploads aborted) under them, and listing only them, so a missing entry is a 404 (a
 * miss) rather than an AccessDenied.
 */
export function grantDeployCache(role: iam.Role, bucketName: string, prefixes: readonly string[]): void {
  const bucketArn = `arn:${Aws.PARTITION}:s3:::${bucketName}`;
  role.addToPolicy(new iam.PolicyStatement({
    sid: 'DeployCacheObjects',
    actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
    resources: prefixes.map((p) => `${bucketArn}/${p}*`),
  }));
  role.addToPolicy(new iam.PolicyStatement({
    sid: 'DeployCacheList',
    actions: ['s3:ListBucket'],
    resources: [bucketArn],
    conditions: { StringLike: { 's3:prefix': prefixes.map((p) => `${p}*`) } },
  }));
  for (const prefix of prefixes) {
    Validations.of(role).acknowledge({
      id: cacheObjectsFinding(Stack.of(role), bucketName, `${prefix}*`),
      reason: `Objects under ${prefix} of the deploy-cache bucket only: the cache entries this role's nodes restore ` +
        'and fill (keyed by versions, model commit and checksums); nothing else in the bucket',
    });
  }
}

/** Gigabytes the cache holds for one cluster configuration, with what the figure rests on. */
export interface DeployCacheSize {
  readonly gb?: number;
  readonly basis: string;
}

/** Weight sizes of the models whose size is known (without the original/ and metal/ copies the nodes skip). */
const MODEL_WEIGHTS_GB: Readonly<Record<string, { gb: number; source: string }>> = {
  'openai/gpt-oss-120b': { gb: 65, source: 'the MXFP4 checkpoint, ~61 GiB' },
};
/** A zstd-compressed venv: ~12 GB of wheels unpacked (torch with its CUDA libraries, vLLM, Ray), about half packed. */
const VENV_ARCHIVE_GB = 6;

export function deployCacheSize(config: ClusterConfig, separateHead: boolean): DeployCacheSize {
  const weights = MODEL_WEIGHTS_GB[config.model];
  const venvs = separateHead ? 2 : 1;
  if (!weights) {
    return { basis: `weights of ${config.model} not in lib/cache/deploy-cache.ts; ${venvs} venv archive(s) ≈ ${VENV_ARCHIVE_GB} GB each` };
  }
  return {
    gb: weights.gb + venvs * VENV_ARCHIVE_GB,
    basis: `${config.model} weights ${weights.gb} GB (${weights.source}) + ${venvs} venv archive(s) × ${VENV_ARCHIVE_GB} GB (zstd) + the LMCache wheel`,
  };
}

export interface DeployCacheStackProps extends StackProps {
  /** The region: the bucket name carries it, and clusters compute the same name. */
  readonly region: string;
}

/**
 * The deploy cache's own stack: one encrypted, private bucket, TLS only, named `p5-ray-cache-<account>-<region>`.
 * Deleting this stack (`cdk destroy P5RayDeployCache`) empties and deletes the bucket; deleting a cluster stack
 * leaves it.
 */
export class DeployCacheStack extends Stack {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: DeployCacheStackProps) {
    super(scope, id, {
      description: 'p5-ray-kv-cluster deploy cache: venv archives, LMCache wheels and model weights for repeat deploys',
      ...props,
      env: { region: props.region, ...props.env },
    });
    this.bucket = disposableBucket(this, {
      bucketName: defaultDeployCacheBucketName(props.region),
      s1Reason: 'Holds only rebuildable bootstrap artifacts (venv archives, wheels, public model weights), each checked ' +
        'against its manifest on restore; access logging would need another bucket that outlives this one',
    });
  }
}
