import {
  CapacityReservation, DescribeCapacityReservationsCommand, DescribeInstanceTypeOfferingsCommand,
  DescribeInstanceTypesCommand, EC2Client, InstanceTypeInfo, _InstanceType,
} from '@aws-sdk/client-ec2';
import {
  GetAWSDefaultServiceQuotaCommand, GetServiceQuotaCommand, ServiceQuotasClient,
} from '@aws-sdk/client-service-quotas';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { errorName } from '../cli/aws-errors';
import { AccountReader, BucketLocation } from './types';

/** The SDK clients preflight talks to; tests pass real clients pointed at a local fake endpoint. */
export interface AwsClients {
  readonly ec2: EC2Client;
  readonly quotas: ServiceQuotasClient;
  readonly s3: S3Client;
}

export interface ClientOptions {
  readonly region: string;
  /** For tests: one endpoint that answers EC2, Service Quotas and S3. */
  readonly endpoint?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/**
 * Clients tuned for a command a person waits on: two attempts and short timeouts, so an unreachable endpoint or a
 * missing network fails in seconds instead of the SDK's default retries.
 */
export function createAwsClients(options: ClientOptions): AwsClients {
  const common = {
    region: options.region,
    endpoint: options.endpoint,
    credentials: options.credentials,
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 3_000, requestTimeout: 15_000 },
  };
  // Path-style addressing for a custom endpoint (a local one has no bucket subdomains).
  return { ec2: new EC2Client(common), quotas: new ServiceQuotasClient(common), s3: new S3Client({ ...common, forcePathStyle: options.endpoint !== undefined }) };
}

/** Every client's sockets closed. */
export function destroyAwsClients(clients: AwsClients): void {
  clients.ec2.destroy();
  clients.quotas.destroy();
  clients.s3.destroy();
}

/** Enough pages for every AZ of any region; a bound so a misbehaving endpoint cannot loop us forever. */
const MAX_PAGES = 10;

/**
 * The live AccountReader. Answers are memoized per argument because several rules ask about the same reservation
 * or instance type, and each repeated call would cost a round trip and a share of the API rate limit.
 */
export function liveAccount(clients: AwsClients, region: string): AccountReader {
  const memo = new Map<string, Promise<unknown>>();
  const once = <T>(key: string, load: () => Promise<T>): Promise<T> => {
    if (!memo.has(key)) memo.set(key, load());
    return memo.get(key) as Promise<T>;
  };

  return {
    region,
    instanceTypes: (types) => once(`types:${[...types].sort().join(',')}`, async () => {
      const found: InstanceTypeInfo[] = [];
      let NextToken: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        // Filtering by type rather than naming InstanceTypes: an unknown name in InstanceTypes fails the whole
        // call with InvalidInstanceType, while a filter just leaves it out, which the rule reports precisely.
        const out = await clients.ec2.send(new DescribeInstanceTypesCommand({
          Filters: [{ Name: 'instance-type', Values: [...types] }], NextToken,
        }));
        found.push(...(out.InstanceTypes ?? []));
        NextToken = out.NextToken;
        if (!NextToken) break;
      }
      return found;
    }),

    offeringZones: (instanceType) => once(`offer:${instanceType}`, async () => {
      const zones = new Set<string>();
      let NextToken: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const out = await clients.ec2.send(new DescribeInstanceTypeOfferingsCommand({
          LocationType: 'availability-zone',
          Filters: [{ Name: 'instance-type', Values: [instanceType as _InstanceType] }],
          NextToken,
        }));
        for (const offering of out.InstanceTypeOfferings ?? []) {
          if (offering.Location && offering.InstanceType === instanceType) zones.add(offering.Location);
        }
        NextToken = out.NextToken;
        if (!NextToken) break;
      }
      return [...zones].sort();
    }),

    capacityReservation: (id) => once(`cr:${id}`, async (): Promise<CapacityReservation | undefined> => {
      try {
        const out = await clients.ec2.send(new DescribeCapacityReservationsCommand({ CapacityReservationIds: [id] }));
        return (out.CapacityReservations ?? []).find((r) => r.CapacityReservationId === id);
      } catch (error) {
        if (errorName(error).startsWith('InvalidCapacityReservationId')) return undefined;
        throw error;
      }
    }),

    // HeadBucket in the stack's region: S3 answers with the bucket's region in x-amz-bucket-region, on a 200, on the
    // 301 of a bucket in another region and on a 403 alike (S3 API reference, HeadBucket); 404 means no such bucket.
    bucketLocation: (bucket) => once(`bucket:${bucket}`, async (): Promise<BucketLocation | undefined> => {
      try {
        const out = await clients.s3.send(new HeadBucketCommand({ Bucket: bucket }));
        return { region: out.BucketRegion ?? region, accessible: true };
      } catch (error) {
        const e = error as { $metadata?: { httpStatusCode?: number }; $response?: { headers?: Record<string, string> } };
        const status = e.$metadata?.httpStatusCode;
        const where = e.$response?.headers?.['x-amz-bucket-region'];
        if (status === 404) return undefined;
        if (where && (status === 301 || status === 400)) return { region: where };
        if (where && status === 403) return { region: where, accessible: false };
        throw error;
      }
    }),

    ec2Quota: (quotaCode) => once(`quota:${quotaCode}`, async () => {
      try {
        const out = await clients.quotas.send(new GetServiceQuotaCommand({ ServiceCode: 'ec2', QuotaCode: quotaCode }));
        return out.Quota?.Value;
      } catch (error) {
        // An account that never changed a quota may have no applied value yet: the AWS default is then in force.
        if (errorName(error) !== 'NoSuchResourceException') throw error;
        const out = await clients.quotas.send(new GetAWSDefaultServiceQuotaCommand({ ServiceCode: 'ec2', QuotaCode: quotaCode }));
        return out.Quota?.Value;
      }
    }),
  };
}
