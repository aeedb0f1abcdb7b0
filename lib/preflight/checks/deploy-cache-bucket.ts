import { PreflightCheck, result } from '../types';

const NAME = 'deploy-cache bucket';
const SOURCE = 'live: S3 HeadBucket';

/**
 * A bucket the user names for the deploy cache (cacheBucketName) has to exist and sit in the stack's region. The nodes
 * move the cache with the AWS CLI's CRT transfer client, which fails on a bucket in another region than its requests
 * (AWS CLI topic s3-config, preferred_transfer_client: "Region redirects - Transfers fail for requests sent to a
 * region that does not match the region of the targeted S3 bucket"): every restore would be a miss and every deploy
 * would rebuild and download everything, with nothing but a "miss" line in the bootstrap log. P5RayDeployCache's own
 * bucket is made in the stack's region, so only a named one is checked.
 */
export const deployCacheBucket: PreflightCheck = {
  name: NAME,
  async run({ config, account }) {
    const bucket = config.cacheBucketName;
    if (!config.deployCache || bucket === undefined) return undefined;
    const location = await account.bucketLocation(bucket);
    if (location === undefined) {
      return result(NAME, 'fail', `cacheBucketName=${bucket}: no such bucket; create it in ${account.region}, or leave ` +
        'cacheBucketName unset to use the P5RayDeployCache stack\'s bucket', SOURCE);
    }
    if (location.region !== account.region) {
      return result(NAME, 'fail', `cacheBucketName=${bucket} is in ${location.region}, the stack in ${account.region}: the ` +
        `nodes' AWS CLI (CRT transfer client) fails on a bucket of another region, so every deploy would miss the cache; ` +
        `use a bucket in ${account.region}`, SOURCE);
    }
    if (location.accessible === false) {
      return result(NAME, 'warn', `cacheBucketName=${bucket} is in ${location.region}, but S3 refuses these credentials ` +
        '(403): the nodes\' role is granted its cache prefixes by the stack, yet a bucket policy of another account can still deny it', SOURCE);
    }
    return result(NAME, 'pass', `cacheBucketName=${bucket} is in ${location.region}, the stack's region`, SOURCE);
  },
};
