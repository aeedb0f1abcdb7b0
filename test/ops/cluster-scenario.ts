/**
 * A deployed cluster as the fake AWS endpoint serves it: the REAL synthesized template (GetTemplate), its instances
 * with the tags CloudFormation and the stack put on them, and bootstrap logs that the REAL bootstrap sent (through
 * the node harness). Frames advance the deploy one step at a time, as a test's clock or the endpoint's calls say.
 */
import { synth } from '../helpers/synth';
import { FakeAccount, FakeInstance, FakeLogEvent, FakeStack, defaultAccount } from '../preflight/fake-aws-endpoint';
import { bootstrapLogs } from './real-bootstrap';

export const STACK = 'P5RayKvCluster';
export const STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/P5RayKvCluster/0c1d2e3f-0000-0000-0000-000000000000';
export const LOG_GROUP = `/p5-ray/${STACK}/bootstrap`;
export const BUCKET = 'p5raykvcluster-artifactsbucket-0123456789ab';
export const IDS: Record<string, string> = { 'gpu-0': 'i-0aaaaaaaaaaaaaaa0', 'gpu-1': 'i-0aaaaaaaaaaaaaaa1', head: 'i-0aaaaaaaaaaaaaaa2' };
/** The node generation the instances' tag names, and so the readiness gate's logical id. */
export const GENERATION = 'a1b2c3d4';
export const GATE = `ClusterReady${GENERATION}`;

export interface RealCluster {
  /** The synthesized template's JSON text (only when asked for: a synth costs seconds). */
  readonly template?: string;
  /** Node → its instance's logical id, Name tag and type. */
  readonly instances: Record<string, { logicalId: string; nameTag: string; type: string }>;
  /** Node → the events its real bootstrap sent, re-stamped to start at 0 ms. */
  readonly logs: Record<string, FakeLogEvent[]>;
  readonly failedGpu1: FakeLogEvent[];
  readonly failReason: string;
}

let logsOnce: Promise<Pick<RealCluster, 'logs' | 'failedGpu1' | 'failReason'>> | undefined;
let templateOnce: Promise<Pick<RealCluster, 'template' | 'instances'>> | undefined;

/** Runs the real bootstrap of each node role (a worker, the head, a worker that fails) once per test process. */
function realLogs() {
  logsOnce ??= (async () => {
    const [gpu1, head, failed] = await Promise.all([
      bootstrapLogs(),
      bootstrapLogs({ role: 'head', isRayHead: true, gpuIndex: 0 }, { STUB_IP: '10.0.0.10' }),
      bootstrapLogs({}, { STUB_GPUS: '7' }),
    ]);
    const restamp = (events: FakeLogEvent[], from: string, to: string) =>
      events.map((e, i) => ({ timestamp: i * 1000, message: e.message.split(from).join(to) }));
    return {
      logs: {
        'gpu-0': restamp(gpu1.events, '[bootstrap gpu 1]', '[bootstrap gpu 0]'),
        'gpu-1': restamp(gpu1.events, '[bootstrap gpu 1]', '[bootstrap gpu 1]'),
        head: restamp(head.events, '[bootstrap head 0]', '[bootstrap head 0]'),
      },
      failedGpu1: restamp(failed.events, '[bootstrap gpu 1]', '[bootstrap gpu 1]'),
      failReason: failed.run.signals[0].Reason,
    };
  })();
  return logsOnce;
}

/** Synthesizes the default stack once per test process: its template and its instances' logical ids and tags. */
function realTemplate() {
  templateOnce ??= (async () => {
    const s = await synth({}, {}, { cfnValidation: false });
    const instances: RealCluster['instances'] = {};
    for (const [logicalId, r] of Object.entries(s.json.Resources)) {
      if (r.Type !== 'AWS::EC2::Instance') continue;
      const nameTag = (r.Properties.Tags as Array<{ Key: string; Value: string }>).find((t) => t.Key === 'Name')?.Value ?? '';
      const node = nameTag.replace(`${STACK}-`, '').replace(/-head$/, '');
      const lt = s.json.Resources[r.Properties.LaunchTemplate.LaunchTemplateId.Ref];
      instances[node] = { logicalId, nameTag, type: lt.Properties.LaunchTemplateData.InstanceType };
    }
    return { template: JSON.stringify(s.json), instances };
  })();
  return templateOnce;
}

/**
 * The default cluster's instances without a synth: the Name tags lib/compute/cluster-nodes.ts gives them (checked
 * against the real stack by stack-facts.test.ts); logical ids only matter for the cost, which needs the template.
 */
const PLAIN_INSTANCES: RealCluster['instances'] = {
  'gpu-0': { logicalId: 'NodesGpuNode0', nameTag: `${STACK}-gpu-0`, type: 'p5.48xlarge' },
  'gpu-1': { logicalId: 'NodesGpuNode1', nameTag: `${STACK}-gpu-1`, type: 'p5.48xlarge' },
  head: { logicalId: 'NodesHeadNode', nameTag: `${STACK}-head`, type: 'm7i.2xlarge' },
};

/** What a test needs of the real thing: the template (for the cost), and the real bootstrap logs. */
export async function realCluster(need: { template?: boolean; logs?: boolean } = {}): Promise<RealCluster> {
  const none = { logs: { 'gpu-0': [], 'gpu-1': [], head: [] }, failedGpu1: [], failReason: '' };
  const [logs, template] = await Promise.all([need.logs === false ? none : realLogs(), need.template ? realTemplate() : undefined]);
  return { ...logs, instances: template?.instances ?? PLAIN_INSTANCES, template: template?.template };
}

export function streamOf(node: string): string {
  return `${node === 'head' ? 'head-0' : node}/${IDS[node]}`;
}

/** A cluster being deployed since `created`; the test moves it on with the returned functions. */
export function deploying(real: RealCluster, created: Date) {
  const stack: FakeStack = {
    name: STACK, id: STACK_ID, status: 'CREATE_IN_PROGRESS', creationTime: created, outputs: {}, resources: {},
    events: [{ logicalId: STACK, resourceType: 'AWS::CloudFormation::Stack', status: 'CREATE_IN_PROGRESS', reason: 'User Initiated', timestamp: created }],
    template: real.template ?? '{}',
  };
  const instances: FakeInstance[] = [];
  const group: Record<string, FakeLogEvent[]> = {};
  const account: FakeAccount = {
    ...defaultAccount(), stacks: { [STACK]: stack }, instances, logGroups: { [LOG_GROUP]: group }, pageSize: 7,
    buckets: { [BUCKET]: {} },
  };
  const at = (ms: number) => new Date(created.getTime() + ms);
  return {
    account, stack, instances, group,
    launch(launchedAfterMs = 0, state: FakeInstance['state'] = 'running') {
      for (const [node, i] of Object.entries(real.instances)) {
        instances.push({
          id: IDS[node], type: i.type, availabilityZone: 'us-east-1a', state, launchTime: at(launchedAfterMs),
          tags: { Name: i.nameTag, 'aws:cloudformation:stack-id': STACK_ID, 'aws:cloudformation:logical-id': i.logicalId, 'aws:cloudformation:stack-name': STACK, 'p5-ray:cluster': STACK,
            'p5-ray:node-generation': GENERATION },
        });
      }
      stack.resources[GATE] = { type: 'AWS::CloudFormation::WaitCondition', status: 'CREATE_IN_PROGRESS' };
    },
    /** Puts the first `count` events of each node's real log into CloudWatch (all when count is undefined), at `offsetMs`. */
    log(node: string, events: FakeLogEvent[], count?: number, offsetMs = 0) {
      group[streamOf(node)] = events.slice(0, count).map((e) => ({ timestamp: created.getTime() + offsetMs + e.timestamp, message: e.message }));
    },
    complete(stopTime: string) {
      stack.status = 'CREATE_COMPLETE';
      stack.resources[GATE] = { type: 'AWS::CloudFormation::WaitCondition', status: 'CREATE_COMPLETE' };
      stack.outputs = { SpendGuardStopTime: stopTime, SpendGuardStatus: 'on', ArtifactsBucketName: BUCKET, HeadInstanceId: IDS.head, GpuInstanceIds: `${IDS['gpu-0']},${IDS['gpu-1']}` };
    },
    fail(reason: string, failedAtMs: number) {
      stack.status = 'ROLLBACK_IN_PROGRESS';
      stack.statusReason = `The following resource(s) failed to create: [${GATE}]. Rollback requested by user.`;
      stack.resources[GATE] = { type: 'AWS::CloudFormation::WaitCondition', status: 'CREATE_FAILED', reason };
      stack.events.push(
        { logicalId: GATE, resourceType: 'AWS::CloudFormation::WaitCondition', status: 'CREATE_FAILED', reason, timestamp: at(failedAtMs) },
        { logicalId: 'SpendGuardStopTime', resourceType: 'Custom::SpendGuardStopTime', status: 'CREATE_FAILED', reason: 'Resource creation cancelled', timestamp: at(failedAtMs + 1000) },
        { logicalId: STACK, resourceType: 'AWS::CloudFormation::Stack', status: 'ROLLBACK_IN_PROGRESS', reason: stack.statusReason, timestamp: at(failedAtMs + 2000) },
      );
    },
  };
}
