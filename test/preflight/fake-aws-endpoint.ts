import { AddressInfo } from 'node:net';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';

/**
 * A stand-in for the AWS APIs preflight calls, at the HTTP boundary: EC2's Query protocol (form-encoded POST,
 * XML answer using the element names of the SDK's EC2 schemas) and Service Quotas' JSON 1.1 protocol.
 */
export interface FakeInstanceType {
  readonly vcpus: number;
  readonly efaSupported?: boolean;
  readonly maxEfaInterfaces?: number;
  readonly networkCards?: number;
}

export interface FakeReservation {
  readonly id: string;
  readonly instanceType: string;
  readonly availabilityZone: string;
  readonly total: number;
  readonly available: number;
  readonly state: string;
  readonly reservationType?: 'default' | 'capacity-block';
  readonly startDate?: Date;
  readonly endDate?: Date;
}

export interface FakeAccount {
  readonly instanceTypes: Record<string, FakeInstanceType>;
  /** Instance type → the AZs that offer it. */
  readonly offerings: Record<string, readonly string[]>;
  readonly reservations: readonly FakeReservation[];
  /** Quota code → applied value; a missing code answers NoSuchResourceException, like an untouched quota. */
  readonly quotas: Record<string, number>;
  readonly defaultQuotas?: Record<string, number>;
}

/** The live facts of the default configuration's types, as DescribeInstanceTypes reports them. */
export function defaultAccount(): FakeAccount {
  return {
    instanceTypes: {
      'p5.48xlarge': { vcpus: 192, efaSupported: true, maxEfaInterfaces: 32, networkCards: 32 },
      'm7i.2xlarge': { vcpus: 8, efaSupported: false, networkCards: 1 },
    },
    offerings: {
      'p5.48xlarge': ['us-east-1a', 'us-east-1b'],
      'm7i.2xlarge': ['us-east-1a', 'us-east-1b', 'us-east-1c'],
    },
    reservations: [],
    quotas: { 'L-417A185B': 384, 'L-1216C47A': 640 },
  };
}

export interface FakeEndpoint {
  readonly url: string;
  /** The API actions received, in order ("DescribeInstanceTypes", "GetServiceQuota", ...). */
  readonly actions: string[];
  close(): Promise<void>;
}

export async function startFakeAws(account: FakeAccount): Promise<FakeEndpoint> {
  const actions: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        answer(account, req, Buffer.concat(chunks).toString('utf8'), res, actions);
      } catch (error) {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, actions, close: () => closeServer(server) };
}

/** A port on which nothing listens: taken from a server that is then closed. */
export async function refusedEndpoint(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await closeServer(server);
  return `http://127.0.0.1:${port}`;
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

function answer(account: FakeAccount, req: IncomingMessage, body: string, res: ServerResponse, actions: string[]): void {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') {
    const action = target.split('.').pop() ?? '';
    actions.push(action);
    const { QuotaCode } = JSON.parse(body) as { QuotaCode: string };
    const table = action === 'GetAWSDefaultServiceQuota' ? account.defaultQuotas ?? {} : account.quotas;
    if (!(QuotaCode in table)) {
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' })
        .end(JSON.stringify({ __type: 'NoSuchResourceException', message: `no quota ${QuotaCode}` }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify({
      Quota: { ServiceCode: 'ec2', QuotaCode, Value: table[QuotaCode], Unit: 'None' },
    }));
    return;
  }

  const form = new URLSearchParams(body);
  const action = form.get('Action') ?? '';
  actions.push(action);
  const filterValues = values(form, 'Filter.1.Value');
  switch (action) {
    case 'DescribeInstanceTypes': {
      const items = filterValues.filter((t) => t in account.instanceTypes).map((t) => instanceTypeXml(t, account.instanceTypes[t]));
      return xml(res, action, `<instanceTypeSet>${items.join('')}</instanceTypeSet>`);
    }
    case 'DescribeInstanceTypeOfferings': {
      if (form.get('LocationType') !== 'availability-zone') throw new Error('preflight must ask per availability zone');
      const items = filterValues.flatMap((t) => (account.offerings[t] ?? []).map((az) =>
        `<item><instanceType>${t}</instanceType><locationType>availability-zone</locationType><location>${az}</location></item>`));
      return xml(res, action, `<instanceTypeOfferingSet>${items.join('')}</instanceTypeOfferingSet>`);
    }
    case 'DescribeCapacityReservations': {
      const ids = values(form, 'CapacityReservationId');
      const found = account.reservations.filter((r) => ids.includes(r.id));
      if (found.length < ids.length) {
        return ec2Error(res, 'InvalidCapacityReservationId.NotFound', `The capacity reservation ID '${ids[0]}' does not exist`);
      }
      return xml(res, action, `<capacityReservationSet>${found.map(reservationXml).join('')}</capacityReservationSet>`);
    }
    default:
      return ec2Error(res, 'InvalidAction', `The action ${action} is not valid for this web service.`);
  }
}

function values(form: URLSearchParams, prefix: string): string[] {
  const found: string[] = [];
  for (let i = 1; i <= 100 && form.has(`${prefix}.${i}`); i++) found.push(form.get(`${prefix}.${i}`) as string);
  return found;
}

function instanceTypeXml(type: string, t: FakeInstanceType): string {
  const efa = t.maxEfaInterfaces === undefined ? '' : `<efaInfo><maximumEfaInterfaces>${t.maxEfaInterfaces}</maximumEfaInterfaces></efaInfo>`;
  return `<item><instanceType>${type}</instanceType><vCpuInfo><defaultVCpus>${t.vcpus}</defaultVCpus></vCpuInfo>` +
    `<networkInfo><maximumNetworkCards>${t.networkCards ?? 1}</maximumNetworkCards>` +
    `<efaSupported>${t.efaSupported ?? false}</efaSupported>${efa}</networkInfo></item>`;
}

function reservationXml(r: FakeReservation): string {
  const date = (tag: string, d: Date | undefined) => (d ? `<${tag}>${d.toISOString()}</${tag}>` : '');
  return `<item><capacityReservationId>${r.id}</capacityReservationId><instanceType>${r.instanceType}</instanceType>` +
    `<instancePlatform>Linux/UNIX</instancePlatform><availabilityZone>${r.availabilityZone}</availabilityZone>` +
    `<tenancy>default</tenancy><totalInstanceCount>${r.total}</totalInstanceCount>` +
    `<availableInstanceCount>${r.available}</availableInstanceCount><state>${r.state}</state>` +
    `${date('startDate', r.startDate)}${date('endDate', r.endDate)}` +
    `<endDateType>${r.endDate ? 'limited' : 'unlimited'}</endDateType>` +
    `<reservationType>${r.reservationType ?? 'default'}</reservationType></item>`;
}

function xml(res: ServerResponse, action: string, inner: string): void {
  res.writeHead(200, { 'content-type': 'text/xml;charset=UTF-8' }).end(
    `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">` +
    `<requestId>00000000-0000-0000-0000-000000000000</requestId>${inner}</${action}Response>`);
}

function ec2Error(res: ServerResponse, code: string, message: string): void {
  res.writeHead(400, { 'content-type': 'text/xml;charset=UTF-8' }).end(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message>` +
    '</Error></Errors><RequestID>00000000-0000-0000-0000-000000000000</RequestID></Response>');
}
