/**
 * A first deploy of the default cluster timed by the deploy-time model (lib/bootstrap/deploy-time.ts, typical
 * figures): the REAL bootstrap logs of each node (cluster-scenario.ts), their steps re-stamped to when the model says
 * they happen, served by the fake endpoint as the clock reaches them, and watched by the REAL `npm run status --
 * --watch`. docs/operations.md's example is an excerpt of what this prints.
 */
import { DEPLOY_TIME_STEPS, firstDeploy } from '../../lib/bootstrap/deploy-time';
import { runStatusCommand } from '../../lib/ops/status';
import { FakeLogEvent } from '../preflight/fake-aws-endpoint';
import { RealCluster, deploying, streamOf } from './cluster-scenario';
import { runWithFake } from './helpers';

const MIN = 60_000;
const typical = (id: keyof typeof DEPLOY_TIME_STEPS) => DEPLOY_TIME_STEPS[id].minutes.typical * MIN;

/** When the stack was created, and when the user starts watching it (half a minute later, as cdk deploy uploads). */
export const MODEL_CREATED = new Date('2026-11-24T12:00:00Z');
export const WATCH_STARTS_AFTER_MS = 30_000;

/**
 * Seconds after a node's script starts at which each of its steps begins, and when it reports ready: the steps
 * before the background jobs share `preJobs`, the jobs take the longest of the model's parallel jobs (a GPU node:
 * torch, then LMCache's build beside the rest of the stack, beside the model download; the head: torch and the stack),
 * the checks `checks`, finding the head and joining Ray `join`; the head then waits for every GPU to join and for
 * Prometheus (`monitoringGate`).
 */
function stepTimes(role: 'gpu' | 'head', steps: number): { startS: number[]; readyS: number } {
  const s = (ms: number) => Math.round(ms / 1000);
  const preJobs = s(typical('preJobs'));
  const gpuJobs = s(Math.max(typical('modelDownload'), typical('torch') + typical('stackRest'),
    typical('torch') + Math.max(typical('lmcacheBuild'), typical('stackRest'))));
  const gpuReady = preJobs + gpuJobs + s(typical('checks')) + s(typical('join'));
  if (role === 'gpu') {
    // 1–6 before the jobs; 7 starts them; 8–9 beside them; 10 waits for them; 11–13 checks; 14–15 head and Ray.
    const checks = preJobs + gpuJobs;
    const startS = [0, 1, 2, 3, 4, 5].map((i) => Math.round((i * preJobs) / 6))
      .concat([preJobs, preJobs + 1, preJobs + 2, preJobs + 3, checks, checks + 12, checks + 24, checks + s(typical('checks')), checks + s(typical('checks')) + 6]);
    return { startS: startS.slice(0, steps), readyS: gpuReady };
  }
  // The head: 1–3 before its jobs; 4 starts torch and the stack; 5–7 beside them; 8 checks; 9–10 Ray and its address;
  // 11 waits for every GPU node to join; 12 for Prometheus to scrape them.
  const jobs = s(typical('torch') + typical('stackRest'));
  const checked = preJobs + jobs + s(typical('checks'));
  const startS = [0, Math.round(preJobs / 3), Math.round((2 * preJobs) / 3), preJobs, preJobs + 1, preJobs + 2, preJobs + 3,
    preJobs + jobs, checked, checked + 6, checked + 12, gpuReady];
  return { startS: startS.slice(0, steps), readyS: gpuReady + s(typical('monitoringGate')) };
}

/**
 * A node's real log, re-stamped: each step line at its model time (its `(Ns)` rewritten to match), the lines after a
 * step a second apart, `ready after Ns` at the model's ready time. The head's "waiting for the timing of gpu-N" lines
 * are left out: they come from the harness's S3 stub, which has no timing files, where a real head finds them.
 */
function retimed(events: readonly FakeLogEvent[], role: 'gpu' | 'head', scriptStartMs: number): FakeLogEvent[] {
  const steps = events.filter((e) => / step \d+\/\d+: /.test(e.message)).length;
  const { startS, readyS } = stepTimes(role, steps);
  const out: FakeLogEvent[] = [];
  let base = 0;
  let offset = 0;
  for (const e of events) {
    if (/\] {3}waiting for the timing of /.test(e.message)) continue;
    let message = e.message;
    const step = / step (\d+)\/\d+: .* \((\d+)s\)$/.exec(message);
    if (step) {
      base = startS[Number(step[1]) - 1];
      offset = 0;
      message = message.replace(/\(\d+s\)$/, `(${base}s)`);
    } else if (/\] (ready after|signalling SUCCESS|timing:|cluster timing:)/.test(message)) {
      if (/\] ready after /.test(message)) { base = readyS; offset = 0; }
      message = message.replace(/ready after \d+s/, `ready after ${readyS}s`);
    }
    out.push({ timestamp: scriptStartMs + base * 1000 + offset * 1000, message });
    offset = Math.min(offset + 1, 2);
  }
  // Keep the stream's order (CloudWatch returns events by time): a line never before the one it follows.
  for (let i = 1; i < out.length; i++) out[i] = { ...out[i], timestamp: Math.max(out[i].timestamp, out[i - 1].timestamp) };
  return out;
}

/** What `npm run status -- --watch` prints for the model's typical first deploy, line by line. */
export async function modelDeployTranscript(real: RealCluster): Promise<{ out: string[]; code: number; clusterReadyMs: number }> {
  const created = MODEL_CREATED.getTime();
  const launch = typical('instanceProfile');
  const scriptStart = created + launch + typical('boot');
  const logs = {
    'gpu-0': retimed(real.logs['gpu-0'], 'gpu', scriptStart),
    'gpu-1': retimed(real.logs['gpu-1'], 'gpu', scriptStart),
    head: retimed(real.logs.head, 'head', scriptStart),
  };
  const headReady = logs.head.find((e) => /\] signalling SUCCESS/.test(e.message))?.timestamp ?? 0;
  const clusterReadyMs = headReady - created;
  const d = deploying(real, MODEL_CREATED);
  let t = created + WATCH_STARTS_AFTER_MS;
  const clock = { now: () => new Date(t), sleep: async (ms: number) => { t += ms; } };
  let launched = false;
  let complete = false;
  const world = () => {
    if (!launched && t >= created + launch) { d.launch(launch); launched = true; }
    for (const [node, events] of Object.entries(logs)) {
      if (launched) d.group[streamOf(node)] = events.filter((e) => e.timestamp <= t);
    }
    // The stack completes at the refresh after ClusterReady: the spend guard's stop time is created once it is.
    if (!complete && t >= headReady) {
      d.complete(new Date(Math.ceil((created + launch + 8 * 60 * MIN) / MIN) * MIN).toISOString().replace('.000Z', 'Z'));
      complete = true;
    }
  };
  const run = await runWithFake(runStatusCommand, ['--watch'], d.account, {
    ...clock, fake: { onCall: (call: { action: string }) => { if (call.action === 'DescribeStacks') world(); } },
  });
  return { out: run.out, code: run.code, clusterReadyMs };
}

/** The model's first deploy in milliseconds, as the README quotes it (10.1 min). */
export const modelFirstDeployMs = () => firstDeploy().typical * MIN;
