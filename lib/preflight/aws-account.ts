import {
  CapacityReservation, DescribeCapacityReservationsCommand, DescribeInstanceTypeOfferingsCommand,
  DescribeInstanceTypesCommand, EC2Client, InstanceTypeInfo, _InstanceType,
} from '@aws-sdk/client-ec2';
import {
  GetAWSDefaultServiceQuotaCommand, GetServiceQuotaCommand, ServiceQuotasClient,
} from '@aws-sdk/client-service-quotas';
import { errorName } from '../cli/aws-errors';
import { AccountReader } from './types';

/** The two SDK clients preflight talks to; tests pass real clients pointed at a local fake endpoint. */
export interface AwsClients {
  readonly ec2: EC2Client;
  readonly quotas: ServiceQuotasClient;
}

export interface ClientOptions {
  readonly region: string;
  /** For tests: one endpoint that answers both EC2 and Service Quotas. */
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
  return { ec2: new EC2Client(common), quotas: new ServiceQuotasClient(common) };
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
