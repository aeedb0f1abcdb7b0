import { AddressInfo } from 'node:net';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';

/**
 * A stand-in for the AWS APIs the commands call, at the HTTP boundary, speaking each service's real wire protocol
 * with the element names of the SDK's own schemas (@aws-sdk/client-* 3.1169.0):
 * - EC2: the EC2 Query protocol (form-encoded POST, `Version=2016-11-15`, XML answers, `<Response><Errors>` errors);
 * - CloudFormation: the AWS Query protocol (form POST, `Version=2010-05-15`, `<XResponse><XResult>`, `<ErrorResponse>`);
 * - Service Quotas and CloudWatch Logs: JSON 1.1 (`X-Amz-Target`, `__type` errors);
 * - S3: REST-XML, path-style (`GET /bucket?list-type=2`, `GET /bucket/key`, `HEAD /bucket`).
 * Every request must be SigV4-signed for the service that answers it, as AWS requires.
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
  /** The cluster placement group an ODCR was created in (EC2's placementGroupArn). */
  readonly placementGroupArn?: string;
  readonly startDate?: Date;
  readonly endDate?: Date;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface FakeCapacityOffering {
  readonly id: string;
  readonly availabilityZone: string;
  readonly instanceType: string;
  readonly instanceCount: number;
  readonly start: Date;
  /** The length asked for (CapacityDurationHours) that this offering answers. */
  readonly hours: number;
  /** The block's real length when shorter, e.g. a block that starts mid-day and ends at the usual 11:30 UTC. */
  readonly actualHours?: number;
  /** As EC2 sends it: a decimal string. */
  readonly upfrontFee: string;
  readonly currency?: string;
}

export interface FakeInstance {
  id: string;
  type: string;
  availabilityZone: string;
  state: 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';
  launchTime: Date;
  tags: Record<string, string>;
  /** EC2's StateTransitionReason, e.g. `User initiated (2026-11-24 20:00:00 GMT)`. */
  reason?: string;
}

export interface FakeStackEvent {
  readonly logicalId: string;
  readonly resourceType: string;
  readonly status: string;
  readonly reason?: string;
  readonly timestamp: Date;
}

export interface FakeStack {
  name: string;
  id: string;
  status: string;
  statusReason?: string;
  creationTime: Date;
  outputs: Record<string, string>;
  resources: Record<string, { type: string; status: string; reason?: string; physicalId?: string }>;
  /** Oldest first; answered newest first, as CloudFormation does. */
  events: FakeStackEvent[];
  /** GetTemplate's TemplateBody (JSON text). */
  template?: string;
}

export interface FakeLogEvent {
  readonly timestamp: number;
  readonly message: string;
}

export interface FakeAccount {
  readonly instanceTypes: Record<string, FakeInstanceType>;
  /** Instance type → the AZs that offer it. */
  readonly offerings: Record<string, readonly string[]>;
  readonly reservations: readonly FakeReservation[];
  /** Quota code → applied value; a missing code answers NoSuchResourceException, like an untouched quota. */
  readonly quotas: Record<string, number>;
  readonly defaultQuotas?: Record<string, number>;
  readonly capacityOfferings?: FakeCapacityOffering[];
  readonly instances?: FakeInstance[];
  readonly stacks?: Record<string, FakeStack>;
  /** Log group → stream → events (oldest first). */
  readonly logGroups?: Record<string, Record<string, FakeLogEvent[]>>;
  /** Bucket → key → body. */
  readonly buckets?: Record<string, Record<string, string>>;
  /** Bucket → its region, when not the region the request is signed for (HeadBucket then answers 301, as S3 does). */
  readonly bucketRegions?: Record<string, string>;
  /** Buckets of another account: HeadBucket answers 403, with the region header all the same. */
  readonly foreignBuckets?: readonly string[];
  /** Items per page for every paginated answer (small values exercise the callers' paging). */
  readonly pageSize?: number;
  /** Actions the caller is not authorized for (EC2: UnauthorizedOperation; others: AccessDenied). */
  readonly denied?: readonly string[];
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

export interface FakeCall {
  /** The service the request was signed for: ec2, cloudformation, logs, s3, servicequotas. */
  readonly service: string;
  readonly action: string;
  readonly params: Readonly<Record<string, unknown>>;
}

export interface FakePurchase {
  readonly offeringId: string;
  readonly platform: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly tagResourceType: string;
  readonly reservationId: string;
}

export interface FakeEndpoint {
  readonly url: string;
  /** The API actions received, in order ("DescribeInstanceTypes", "GetServiceQuota", ...). */
  readonly actions: string[];
  readonly calls: FakeCall[];
  readonly purchases: FakePurchase[];
  close(): Promise<void>;
}

export interface FakeOptions {
  /** Called before each request is answered: tests advance a scenario from here. */
  readonly onCall?: (call: FakeCall) => void;
}

export async function startFakeAws(account: FakeAccount, options: FakeOptions = {}): Promise<FakeEndpoint> {
  const state: FakeState = { account, actions: [], calls: [], purchases: [], options };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        answer(state, req, Buffer.concat(chunks).toString('utf8'), res);
      } catch (error) {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`, actions: state.actions, calls: state.calls, purchases: state.purchases,
    close: () => closeServer(server),
  };
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

interface FakeState {
  readonly account: FakeAccount;
  readonly actions: string[];
  readonly calls: FakeCall[];
  readonly purchases: FakePurchase[];
  readonly options: FakeOptions;
}

const REQUEST_ID = '00000000-0000-0000-0000-000000000000';

function answer(state: FakeState, req: IncomingMessage, body: string, res: ServerResponse): void {
  const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(String(req.headers.authorization ?? ''));
  const signedFor = scope?.[2];
  const record = (service: string, action: string, params: Record<string, unknown>): boolean => {
    const call = { service, action, params };
    state.actions.push(action);
    state.calls.push(call);
    state.options.onCall?.(call);
    if (signedFor !== service) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end(`request for ${service} signed for ${signedFor ?? 'nothing'}`);
      return false;
    }
    return true;
  };
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') {
    const [prefix, action] = target.split('.');
    const params = JSON.parse(body || '{}') as Record<string, unknown>;
    if (prefix.startsWith('ServiceQuotas')) {
      if (record('servicequotas', action, params)) quotas(state.account, action, params, res);
    } else if (prefix.startsWith('Logs_')) {
      if (record('logs', action, params)) logs(state, action, params, res);
    } else {
      res.writeHead(400).end(`unknown target ${target}`);
    }
    return;
  }
  if (req.method === 'HEAD') {
    const bucket = decodeURIComponent(new URL(req.url ?? '/', 'http://fake').pathname.slice(1).replace(/\/$/, ''));
    if (record('s3', 'HeadBucket', { bucket })) headBucket(state.account, bucket, scope?.[1] ?? '', res);
    return;
  }
  if (req.method !== 'POST') {
    const url = new URL(req.url ?? '/', 'http://fake');
    const [bucket, ...keyParts] = url.pathname.slice(1).split('/');
    const key = keyParts.map(decodeURIComponent).join('/');
    const action = key === '' ? 'ListObjectsV2' : 'GetObject';
    if (record('s3', action, { bucket, key, ...Object.fromEntries(url.searchParams) })) s3(state, action, decodeURIComponent(bucket), key, url.searchParams, res);
    return;
  }
  const form = new URLSearchParams(body);
  const action = form.get('Action') ?? '';
  const params = Object.fromEntries(form);
  if (form.get('Version') === '2010-05-15') {
    if (record('cloudformation', action, params)) cloudFormation(state, action, form, res);
    return;
  }
  if (record('ec2', action, params)) ec2(state, action, form, res);
}

// ---------- Service Quotas (JSON 1.1) ----------

function quotas(account: FakeAccount, action: string, params: Record<string, unknown>, res: ServerResponse): void {
  const QuotaCode = String(params.QuotaCode);
  const table = action === 'GetAWSDefaultServiceQuota' ? account.defaultQuotas ?? {} : account.quotas;
  if (!(QuotaCode in table)) return jsonError(res, 400, 'NoSuchResourceException', `no quota ${QuotaCode}`);
  json(res, { Quota: { ServiceCode: 'ec2', QuotaCode, Value: table[QuotaCode], Unit: 'None' } });
}

// ---------- EC2 (EC2 Query) ----------

function ec2(state: FakeState, action: string, form: URLSearchParams, res: ServerResponse): void {
  const { account } = state;
  if (account.denied?.includes(action)) {
    return ec2Error(res, 403, 'UnauthorizedOperation', `You are not authorized to perform this operation. User: arn:aws:iam::123456789012:user/test is not authorized to perform: ec2:${action}`);
  }
  if (form.get('DryRun') === 'true') {
    return ec2Error(res, 412, 'DryRunOperation', 'Request would have succeeded, but DryRun flag is set.');
  }
  const filterValues = values(form, 'Filter.1.Value');
  const pageSize = account.pageSize ?? 1000;
  switch (action) {
    case 'DescribeInstanceTypes': {
      const items = filterValues.filter((t) => t in account.instanceTypes).map((t) => instanceTypeXml(t, account.instanceTypes[t]));
      return xml(res, action, `<instanceTypeSet>${items.join('')}</instanceTypeSet>`);
    }
    case 'DescribeInstanceTypeOfferings': {
      if (form.get('LocationType') !== 'availability-zone') throw new Error('callers must ask per availability zone');
      const items = filterValues.flatMap((t) => (account.offerings[t] ?? []).map((az) =>
        `<item><instanceType>${t}</instanceType><locationType>availability-zone</locationType><location>${az}</location></item>`));
      const { page, next } = paginate(items, form.get('NextToken'), pageSize);
      return xml(res, action, `<instanceTypeOfferingSet>${page.join('')}</instanceTypeOfferingSet>${next ? `<nextToken>${next}</nextToken>` : ''}`);
    }
    case 'DescribeCapacityReservations': {
      const ids = values(form, 'CapacityReservationId');
      const all = [...account.reservations, ...state.purchases.map((p) => purchasedReservation(account, p))];
      const found = all.filter((r) => ids.includes(r.id));
      if (found.length < ids.length) {
        return ec2Error(res, 400, 'InvalidCapacityReservationId.NotFound', `The capacity reservation ID '${ids[0]}' does not exist`);
      }
      return xml(res, action, `<capacityReservationSet>${found.map((r) => `<item>${reservationXml(r)}</item>`).join('')}</capacityReservationSet>`);
    }
    case 'DescribeCapacityBlockOfferings': {
      if (!form.has('CapacityDurationHours')) return ec2Error(res, 400, 'MissingParameter', 'The request must contain the parameter CapacityDurationHours');
      const matching = matchingOfferings(account, form);
      const { page, next } = paginate(matching.map(offeringXml), form.get('NextToken'), pageSize);
      return xml(res, action, `<capacityBlockOfferingSet>${page.join('')}</capacityBlockOfferingSet>${next ? `<nextToken>${next}</nextToken>` : ''}`);
    }
    case 'PurchaseCapacityBlock': {
      const offeringId = form.get('CapacityBlockOfferingId') ?? '';
      const offers = account.capacityOfferings ?? [];
      const index = offers.findIndex((o) => o.id === offeringId);
      // The real error code for a sold offering is not documented in the SDK model; this fake's choice.
      if (index < 0) return ec2Error(res, 400, 'InvalidParameterValue', `The Capacity Block offering ${offeringId} is not available.`);
      const tags: Record<string, string> = {};
      for (let i = 1; form.has(`TagSpecification.1.Tag.${i}.Key`); i++) {
        tags[form.get(`TagSpecification.1.Tag.${i}.Key`) as string] = form.get(`TagSpecification.1.Tag.${i}.Value`) ?? '';
      }
      const purchase: FakePurchase = {
        offeringId, platform: form.get('InstancePlatform') ?? '', tags,
        tagResourceType: form.get('TagSpecification.1.ResourceType') ?? '',
        reservationId: `cr-0b10c${String(state.purchases.length).padStart(12, '0')}`,
      };
      state.purchases.push(purchase);
      const reservation = purchasedReservation(account, purchase);
      offers.splice(index, 1);
      return xml(res, action, `<capacityReservation>${reservationXml(reservation)}</capacityReservation>`);
    }
    case 'DescribeInstances': {
      const filters: Array<[string, string[]]> = [];
      for (let i = 1; form.has(`Filter.${i}.Name`); i++) filters.push([form.get(`Filter.${i}.Name`) as string, values(form, `Filter.${i}.Value`)]);
      const matching = (account.instances ?? []).filter((inst) => filters.every(([name, vals]) => {
        if (name.startsWith('tag:')) return vals.includes(inst.tags[name.slice(4)]);
        if (name === 'instance-state-name') return vals.includes(inst.state);
        throw new Error(`fake DescribeInstances: unsupported filter ${name}`);
      }));
      const { page, next } = paginate(matching.map(instanceXml), form.get('NextToken'), pageSize);
      // One reservation per instance, as separate RunInstances calls (one per CfnInstance) produce.
      return xml(res, action, `<reservationSet>${page.map((i, n) => `<item><reservationId>r-${n}</reservationId><ownerId>123456789012</ownerId><instancesSet>${i}</instancesSet></item>`).join('')}</reservationSet>${next ? `<nextToken>${next}</nextToken>` : ''}`);
    }
    default:
      return ec2Error(res, 400, 'InvalidAction', `The action ${action} is not valid for this web service.`);
  }
}

function matchingOfferings(account: FakeAccount, form: URLSearchParams): FakeCapacityOffering[] {
  const hours = Number(form.get('CapacityDurationHours'));
  const type = form.get('InstanceType');
  const count = form.has('InstanceCount') ? Number(form.get('InstanceCount')) : undefined;
  const earliest = form.has('StartDateRange') ? new Date(form.get('StartDateRange') as string) : undefined;
  const latest = form.has('EndDateRange') ? new Date(form.get('EndDateRange') as string) : undefined;
  return (account.capacityOfferings ?? []).filter((o) => o.hours === hours && (!type || o.instanceType === type) &&
    (count === undefined || o.instanceCount === count) && (!earliest || o.start >= earliest) &&
    (!latest || offeringEnd(o) <= latest));
}

function offeringEnd(o: FakeCapacityOffering): Date {
  return new Date(o.start.getTime() + (o.actualHours ?? o.hours) * 3_600_000);
}

function purchasedReservation(account: FakeAccount, p: FakePurchase): FakeReservation {
  const o = (account.capacityOfferings ?? []).find((x) => x.id === p.offeringId);
  return {
    id: p.reservationId, instanceType: o?.instanceType ?? 'p5.48xlarge', availabilityZone: o?.availabilityZone ?? 'us-east-1a',
    total: o?.instanceCount ?? 0, available: o?.instanceCount ?? 0, state: 'scheduled', reservationType: 'capacity-block',
    startDate: o?.start, endDate: o ? offeringEnd(o) : undefined, tags: p.tags,
  };
}

function values(form: URLSearchParams, prefix: string): string[] {
  const found: string[] = [];
  for (let i = 1; i <= 100 && form.has(`${prefix}.${i}`); i++) found.push(form.get(`${prefix}.${i}`) as string);
  return found;
}

function paginate<T>(items: readonly T[], token: string | null, size: number): { page: T[]; next?: string } {
  const start = token ? Number(token.replace(/^page-/, '')) : 0;
  const end = start + size;
  return { page: items.slice(start, end), next: end < items.length ? `page-${end}` : undefined };
}

function instanceTypeXml(type: string, t: FakeInstanceType): string {
  const efa = t.maxEfaInterfaces === undefined ? '' : `<efaInfo><maximumEfaInterfaces>${t.maxEfaInterfaces}</maximumEfaInterfaces></efaInfo>`;
  return `<item><instanceType>${type}</instanceType><vCpuInfo><defaultVCpus>${t.vcpus}</defaultVCpus></vCpuInfo>` +
    `<networkInfo><maximumNetworkCards>${t.networkCards ?? 1}</maximumNetworkCards>` +
    `<efaSupported>${t.efaSupported ?? false}</efaSupported>${efa}</networkInfo></item>`;
}

function reservationXml(r: FakeReservation): string {
  const date = (tag: string, d: Date | undefined) => (d ? `<${tag}>${d.toISOString()}</${tag}>` : '');
  return `<capacityReservationId>${r.id}</capacityReservationId><instanceType>${r.instanceType}</instanceType>` +
    `<instancePlatform>Linux/UNIX</instancePlatform><availabilityZone>${r.availabilityZone}</availabilityZone>` +
    `<tenancy>default</tenancy><totalInstanceCount>${r.total}</totalInstanceCount>` +
    `<availableInstanceCount>${r.available}</availableInstanceCount><state>${r.state}</state>` +
    `${date('startDate', r.startDate)}${date('endDate', r.endDate)}` +
    `<endDateType>${r.endDate ? 'limited' : 'unlimited'}</endDateType>` +
    `<reservationType>${r.reservationType ?? 'default'}</reservationType>` +
    (r.placementGroupArn ? `<placementGroupArn>${esc(r.placementGroupArn)}</placementGroupArn>` : '') +
    `<tagSet>${Object.entries(r.tags ?? {}).map(([k, v]) => `<item><key>${esc(k)}</key><value>${esc(v)}</value></item>`).join('')}</tagSet>`;
}

function offeringXml(o: FakeCapacityOffering): string {
  return `<item><capacityBlockOfferingId>${o.id}</capacityBlockOfferingId><instanceType>${o.instanceType}</instanceType>` +
    `<availabilityZone>${o.availabilityZone}</availabilityZone><instanceCount>${o.instanceCount}</instanceCount>` +
    `<startDate>${o.start.toISOString()}</startDate><endDate>${offeringEnd(o).toISOString()}</endDate>` +
    `<capacityBlockDurationHours>${Math.floor(o.actualHours ?? o.hours)}</capacityBlockDurationHours>` +
    `<capacityBlockDurationMinutes>${Math.round(((o.actualHours ?? o.hours) % 1) * 60)}</capacityBlockDurationMinutes><upfrontFee>${o.upfrontFee}</upfrontFee>` +
    `<currencyCode>${o.currency ?? 'USD'}</currencyCode><tenancy>default</tenancy></item>`;
}

function instanceXml(i: FakeInstance): string {
  const code = { pending: 0, running: 16, 'shutting-down': 32, terminated: 48, stopping: 64, stopped: 80 }[i.state];
  return `<item><instanceId>${i.id}</instanceId><instanceType>${i.type}</instanceType>` +
    `<placement><availabilityZone>${i.availabilityZone}</availabilityZone><tenancy>default</tenancy></placement>` +
    `<instanceState><code>${code}</code><name>${i.state}</name></instanceState>` +
    `<reason>${esc(i.reason ?? '')}</reason><launchTime>${i.launchTime.toISOString()}</launchTime>` +
    `<tagSet>${Object.entries(i.tags).map(([k, v]) => `<item><key>${esc(k)}</key><value>${esc(v)}</value></item>`).join('')}</tagSet></item>`;
}

function xml(res: ServerResponse, action: string, inner: string): void {
  res.writeHead(200, { 'content-type': 'text/xml;charset=UTF-8' }).end(
    `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">` +
    `<requestId>${REQUEST_ID}</requestId>${inner}</${action}Response>`);
}

function ec2Error(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8' }).end(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${esc(message)}</Message>` +
    `</Error></Errors><RequestID>${REQUEST_ID}</RequestID></Response>`);
}

// ---------- CloudFormation (AWS Query) ----------

function cloudFormation(state: FakeState, action: string, form: URLSearchParams, res: ServerResponse): void {
  const { account } = state;
  if (account.denied?.includes(action)) {
    return cfnError(res, 403, 'AccessDenied', `User: arn:aws:iam::123456789012:user/test is not authorized to perform: cloudformation:${action}`);
  }
  const name = form.get('StackName') ?? '';
  const stack = Object.values(account.stacks ?? {}).find((s) => s.name === name || s.id === name);
  if (!stack) return cfnError(res, 400, 'ValidationError', `Stack with id ${name} does not exist`);
  const m = (tag: string, value: string | undefined) => (value === undefined ? '' : `<${tag}>${esc(value)}</${tag}>`);
  switch (action) {
    case 'DescribeStacks': {
      const outputs = Object.entries(stack.outputs).map(([k, v]) => `<member><OutputKey>${k}</OutputKey><OutputValue>${esc(v)}</OutputValue></member>`);
      return cfnXml(res, action, `<Stacks><member>${m('StackName', stack.name)}${m('StackId', stack.id)}` +
        `${m('CreationTime', stack.creationTime.toISOString())}${m('StackStatus', stack.status)}${m('StackStatusReason', stack.statusReason)}` +
        `<Outputs>${outputs.join('')}</Outputs></member></Stacks>`);
    }
    case 'DescribeStackResource': {
      const logicalId = form.get('LogicalResourceId') ?? '';
      const r = stack.resources[logicalId];
      if (!r) return cfnError(res, 400, 'ValidationError', `Resource ${logicalId} does not exist for stack ${stack.name}`);
      return cfnXml(res, action, `<StackResourceDetail>${m('StackName', stack.name)}${m('StackId', stack.id)}` +
        `${m('LogicalResourceId', logicalId)}${m('PhysicalResourceId', r.physicalId)}${m('ResourceType', r.type)}` +
        `${m('LastUpdatedTimestamp', stack.creationTime.toISOString())}${m('ResourceStatus', r.status)}${m('ResourceStatusReason', r.reason)}</StackResourceDetail>`);
    }
    case 'DescribeStackEvents': {
      const newestFirst = [...stack.events].reverse().map((e, i) => `<member>${m('StackId', stack.id)}${m('EventId', `e-${i}`)}` +
        `${m('StackName', stack.name)}${m('LogicalResourceId', e.logicalId)}${m('ResourceType', e.resourceType)}` +
        `${m('Timestamp', e.timestamp.toISOString())}${m('ResourceStatus', e.status)}${m('ResourceStatusReason', e.reason)}</member>`);
      const { page, next } = paginate(newestFirst, form.get('NextToken'), account.pageSize ?? 100);
      return cfnXml(res, action, `<StackEvents>${page.join('')}</StackEvents>${m('NextToken', next)}`);
    }
    case 'GetTemplate':
      return cfnXml(res, action, `<TemplateBody>${esc(stack.template ?? '{}')}</TemplateBody><StagesAvailable><member>Original</member><member>Processed</member></StagesAvailable>`);
    default:
      return cfnError(res, 400, 'InvalidAction', `Could not find operation ${action}`);
  }
}

function cfnXml(res: ServerResponse, action: string, inner: string): void {
  res.writeHead(200, { 'content-type': 'text/xml' }).end(
    `<${action}Response xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><${action}Result>${inner}</${action}Result>` +
    `<ResponseMetadata><RequestId>${REQUEST_ID}</RequestId></ResponseMetadata></${action}Response>`);
}

function cfnError(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'text/xml' }).end(
    `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>${code}</Code>` +
    `<Message>${esc(message)}</Message></Error><RequestId>${REQUEST_ID}</RequestId></ErrorResponse>`);
}

// ---------- CloudWatch Logs (JSON 1.1) ----------

function logs(state: FakeState, action: string, params: Record<string, unknown>, res: ServerResponse): void {
  const { account } = state;
  if (account.denied?.includes(action)) {
    return jsonError(res, 400, 'AccessDeniedException', `User is not authorized to perform: logs:${action}`);
  }
  const group = (account.logGroups ?? {})[String(params.logGroupName)];
  if (!group) return jsonError(res, 400, 'ResourceNotFoundException', 'The specified log group does not exist.');
  const pageSize = account.pageSize ?? 50;
  switch (action) {
    case 'DescribeLogStreams': {
      const prefix = typeof params.logStreamNamePrefix === 'string' ? params.logStreamNamePrefix : '';
      const streams = Object.entries(group).filter(([n]) => n.startsWith(prefix)).sort(([a], [b]) => a.localeCompare(b))
        .map(([logStreamName, events]) => ({
          logStreamName, creationTime: events[0]?.timestamp ?? 0, firstEventTimestamp: events[0]?.timestamp,
          lastEventTimestamp: events.at(-1)?.timestamp, lastIngestionTime: events.at(-1)?.timestamp, storedBytes: 0,
          arn: `arn:aws:logs:us-east-1:123456789012:log-group:${String(params.logGroupName)}:log-stream:${logStreamName}`,
        }));
      const { page, next } = paginate(streams, (params.nextToken as string | undefined) ?? null, pageSize);
      return json(res, { logStreams: page, ...(next ? { nextToken: next } : {}) });
    }
    case 'GetLogEvents': {
      const events = group[String(params.logStreamName)];
      if (!events) return jsonError(res, 400, 'ResourceNotFoundException', 'The specified log stream does not exist.');
      const limit = Math.min(Number(params.limit ?? 10_000), pageSize);
      const token = params.nextToken as string | undefined;
      // Tokens as CloudWatch's: f/<n> reads forward from event n; at the end it returns the same token again.
      let start: number;
      if (token?.startsWith('f/')) start = Number(token.slice(2));
      else if (token?.startsWith('b/')) start = Math.max(0, Number(token.slice(2)) - limit);
      else start = params.startFromHead === true ? 0 : Math.max(0, events.length - limit);
      const page = events.slice(start, start + limit);
      return json(res, {
        events: page.map((e) => ({ ...e, ingestionTime: e.timestamp })),
        nextForwardToken: `f/${start + page.length}`,
        nextBackwardToken: `b/${start}`,
      });
    }
    default:
      return jsonError(res, 400, 'UnknownOperationException', action);
  }
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(body));
}

function jsonError(res: ServerResponse, status: number, type: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify({ __type: type, message }));
}

// ---------- S3 (REST-XML, path style) ----------

function s3(state: FakeState, action: string, bucketName: string, key: string, query: URLSearchParams, res: ServerResponse): void {
  const { account } = state;
  if (account.denied?.includes(action)) return s3Error(res, 403, 'AccessDenied', 'Access Denied');
  const bucket = (account.buckets ?? {})[bucketName];
  if (!bucket) return s3Error(res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
  if (action === 'GetObject') {
    if (!(key in bucket)) return s3Error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
    const body = Buffer.from(bucket[key]);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length, etag: '"0"', 'last-modified': new Date(0).toUTCString() }).end(body);
    return;
  }
  if (query.get('list-type') !== '2') return s3Error(res, 400, 'InvalidArgument', 'only ListObjectsV2 is faked');
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter') ?? '';
  const keys = Object.keys(bucket).filter((k) => k.startsWith(prefix)).sort();
  const entries: Array<{ key?: string; prefix?: string }> = [];
  const seen = new Set<string>();
  for (const k of keys) {
    const cut = delimiter ? k.indexOf(delimiter, prefix.length) : -1;
    if (cut >= 0) {
      const p = k.slice(0, cut + delimiter.length);
      if (!seen.has(p)) { seen.add(p); entries.push({ prefix: p }); }
    } else {
      entries.push({ key: k });
    }
  }
  const maxKeys = Math.min(Number(query.get('max-keys') ?? 1000), account.pageSize ?? 1000);
  const { page, next } = paginate(entries, query.get('continuation-token'), maxKeys);
  const contents = page.filter((e) => e.key).map((e) => `<Contents><Key>${esc(e.key as string)}</Key><LastModified>2026-11-24T12:00:00.000Z</LastModified>` +
    `<ETag>&quot;0&quot;</ETag><Size>${Buffer.byteLength(bucket[e.key as string])}</Size><StorageClass>STANDARD</StorageClass></Contents>`);
  const prefixes = page.filter((e) => e.prefix).map((e) => `<CommonPrefixes><Prefix>${esc(e.prefix as string)}</Prefix></CommonPrefixes>`);
  res.writeHead(200, { 'content-type': 'application/xml' }).end(
    `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${bucketName}</Name>` +
    `<Prefix>${esc(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys>` +
    `${delimiter ? `<Delimiter>${esc(delimiter)}</Delimiter>` : ''}<IsTruncated>${next !== undefined}</IsTruncated>` +
    `${next ? `<NextContinuationToken>${next}</NextContinuationToken>` : ''}${contents.join('')}${prefixes.join('')}</ListBucketResult>`);
}

/**
 * HeadBucket as S3 answers it (S3 API reference, HeadBucket): no body; the bucket's region in x-amz-bucket-region
 * whether or not the caller may access it; 301 for a bucket of another region than the request's, 403 without access,
 * 404 for no such bucket.
 */
function headBucket(account: FakeAccount, bucket: string, requestRegion: string, res: ServerResponse): void {
  if (account.denied?.includes('HeadBucket')) return void res.writeHead(403).end();
  if (!(bucket in (account.buckets ?? {}))) return void res.writeHead(404).end();
  const region = account.bucketRegions?.[bucket] ?? requestRegion;
  const status = account.foreignBuckets?.includes(bucket) ? 403 : region !== requestRegion ? 301 : 200;
  res.writeHead(status, { 'x-amz-bucket-region': region, 'x-amz-request-id': REQUEST_ID }).end();
}

function s3Error(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' }).end(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${esc(message)}</Message><RequestId>${REQUEST_ID}</RequestId></Error>`);
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
