import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { S3Client } from '@aws-sdk/client-s3';
import { classifyAwsError, errorName } from './aws-errors';
import { ProfileLookup, profileProblem } from './aws-profile';

/**
 * How the commands reach AWS. Users get the SDK's normal credential chain and its own `AWS_ENDPOINT_URL` /
 * `AWS_ENDPOINT_URL_<SERVICE>` handling; tests pass a local endpoint and fake keys.
 */
export interface AwsAccess {
  readonly endpoint?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Read for AWS_ENDPOINT_URL(_S3), which decides S3 path-style addressing (a local endpoint has no bucket DNS). */
  readonly env?: NodeJS.ProcessEnv;
}

/** Each client is made on first use: the SDK packages are large, and most commands need two of the four. */
export class AwsClients {
  private made = new Map<string, { destroy(): void }>();

  constructor(readonly region: string, private readonly access: AwsAccess = {}) {}

  get ec2(): EC2Client { return this.once('ec2', () => new EC2Client(this.common())); }
  get cloudFormation(): CloudFormationClient { return this.once('cfn', () => new CloudFormationClient(this.common())); }
  get logs(): CloudWatchLogsClient { return this.once('logs', () => new CloudWatchLogsClient(this.common())); }
  get s3(): S3Client {
    const env = this.access.env ?? process.env;
    const custom = this.access.endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
    return this.once('s3', () => new S3Client({ ...this.common(), forcePathStyle: custom !== undefined && custom !== '' }));
  }

  destroy(): void {
    for (const client of this.made.values()) client.destroy();
    this.made.clear();
  }

  /**
   * Tuned for a person waiting: three attempts and short connect timeouts, so a missing network fails in seconds
   * rather than after the SDK's default back-off.
   */
  private common() {
    return {
      region: this.region,
      endpoint: this.access.endpoint,
      credentials: this.access.credentials,
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 3_000, requestTimeout: 30_000 },
    };
  }

  private once<T extends { destroy(): void }>(key: string, make: () => T): T {
    if (!this.made.has(key)) this.made.set(key, make());
    return this.made.get(key) as T;
  }
}

/** An AWS call that failed, with the IAM action it needed, so the user reads what to grant. */
export class AwsCallError extends Error {
  constructor(readonly iamAction: string, readonly region: string, readonly cause: unknown) {
    super(`${iamAction}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'AwsCallError';
  }

  get code(): string { return errorName(this.cause); }
}

/** Runs one SDK call, tagging a failure with the IAM action it needed. */
export async function awsCall<T>(iamAction: string, region: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw new AwsCallError(iamAction, region, error);
  }
}

const THEN_PREFLIGHT = 'then run `npm run preflight` to check the account before `npx cdk deploy`';
export const SET_CREDENTIALS = 'set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or run `aws configure` / `aws sso login`';
export const SET_CREDENTIALS_HINT = `${SET_CREDENTIALS}; ${THEN_PREFLIGHT}`;

/** The SDK found no credentials: what is missing (AWS_PROFILE's profile, by name, when that is set). */
export function noCredentialsLine(lookup?: ProfileLookup): string {
  const profile = lookup ? profileProblem(lookup) : undefined;
  return profile ?? `no AWS credentials found: ${SET_CREDENTIALS}`;
}

/**
 * One line saying what went wrong and what to do: no credentials, rejected credentials, no network, not
 * authorized (naming the IAM action), or AWS's own code and message.
 */
export function describeAwsFailure(error: AwsCallError, lookup?: ProfileLookup): string {
  const failure = classifyAwsError(error.cause);
  switch (failure.kind) {
    case 'credentials':
      return failure.code === 'CredentialsProviderError' || /could not load credentials/i.test(failure.message)
        ? `${noCredentialsLine(lookup)}; ${THEN_PREFLIGHT}`
        : `AWS rejected the credentials (${failure.code}: ${failure.message}): ${SET_CREDENTIALS_HINT}`;
    case 'network':
      return `cannot reach the AWS API for ${error.region} (${failure.code}${failure.message && !failure.message.includes(failure.code) ? `: ${failure.message}` : ''}); ` +
        'check the network, a proxy, or AWS_ENDPOINT_URL';
    case 'denied':
      return `not authorized to call ${error.iamAction} in ${error.region} (${failure.code}): grant it to your ` +
        'credentials (the AWS managed policy ReadOnlyAccess covers the read-only calls)';
    default:
      return `AWS answered ${failure.code} to ${error.iamAction} in ${error.region}: ${failure.message}`;
  }
}
