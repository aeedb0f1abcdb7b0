/**
 * The desk model of where a deploy's minutes go, from "CloudFormation starts" to `ClusterReady`, for the default
 * stack (2 × p5.48xlarge + an m7i.2xlarge head, openai/gpt-oss-120b): each step's duration as low / typical / high
 * minutes with what it rests on, composed along the critical path (steps in sequence add up, parallel jobs take the
 * longest). docs/deploy-time.md explains it step by step with the sources, and the README quotes its totals; a test
 * keeps both equal to what this computes. Every deploy measures the real figures: each node's `timing:` line and
 * the Ray head's `cluster timing:` line (docs/bootstrap.md).
 */
export interface Minutes {
  readonly low: number;
  readonly typical: number;
  readonly high: number;
}

export interface ModelStep {
  readonly what: string;
  readonly minutes: Minutes;
  /** What the figure rests on: a public measurement (docs/deploy-time.md gives the links) or the arithmetic. */
  readonly basis: string;
}

const m = (low: number, typical: number, high: number): Minutes => ({ low, typical, high });

/** The inputs, one per step; docs/deploy-time.md cites the source of each. */
export const DEPLOY_TIME_STEPS = {
  instanceProfile: {
    what: 'IAM role, policy and instance profile (CloudFormation)', minutes: m(1, 2, 3),
    basis: 'instance profiles take about 2 minutes to become usable (public reports citing AWS)',
  },
  natRoute: {
    what: 'NAT gateway and the private route to it (CloudFormation)', minutes: m(1.5, 2.5, 5),
    basis: 'NAT gateways take minutes to become available, "up to 5 min" and more in public reports',
  },
  boot: {
    what: 'p5.48xlarge launch and boot until the user data runs (DLAMI, NVMe assembled)', minutes: m(2, 3, 4),
    basis: 'EC2 launches take 20–40 s before boot; p5 adds 8 GPUs, 32 network cards and the NVMe array; measured by each node (timing: boot)',
  },
  preJobs: {
    what: 'identity, NVMe, GPU and EFA checks, tools, the asset from S3', minutes: m(0.2, 0.3, 1),
    basis: 'seconds each; up to a minute when the AMI lacks the AWS CLI or uv',
  },
  modelDownload: {
    what: 'gpt-oss-120b from the Hub, 65 GB, in its own environment (hf_xet)', minutes: m(1.3, 2, 2.9),
    basis: '65 GB at 0.4–1.0 GB/s per node (typical 0.6) plus ~10 s for the environment',
  },
  torch: {
    what: 'torch and its CUDA libraries first', minutes: m(0.3, 0.5, 1),
    basis: 'a few GB of wheels from PyPI\'s CDN; uv downloads in parallel',
  },
  stackRest: {
    what: 'ray, vllm, nixl and the rest of the stack', minutes: m(0.8, 1.3, 2),
    basis: 'a few more GB of wheels, unpacked once into uv\'s cache on the venv\'s filesystem and hard-linked (~12 GB at 1000 MiB/s)',
  },
  stackSerialCopy: {
    what: 'the same stack before: uv\'s cache on the NVMe, ~12 GB copied into the venv on a 125 MiB/s root volume', minutes: m(1.4, 1.6, 2.5),
    basis: '12 GB / 125 MiB/s ≈ 1.6 min, more with small files',
  },
  lmcacheBuild: {
    what: 'LMCache\'s CUDA extension built for sm_90 and its wheel installed', minutes: m(2, 3.1, 5.1),
    basis: 'a 2–5 minute compile (to be measured: timing: lmcache-build) plus ~5 s to install the wheel',
  },
  checks: {
    what: 'verify the stack and LMCache kernels, NIXL on EFA, node facts', minutes: m(0.4, 0.6, 1),
    basis: 'first imports of torch and vLLM from a freshly written disk',
  },
  join: {
    what: 'find the head, start Ray, join; the head sees every GPU and signals', minutes: m(0.3, 0.4, 0.6),
    basis: 'seconds per health check and poll; the CPU head is ready minutes before the GPU nodes',
  },
  monitoringGate: {
    what: 'the Ray head\'s monitoring gate: Prometheus scrapes every target of every node', minutes: m(0.1, 0.2, 0.6),
    basis: 'one 5 s scrape interval after Prometheus picks up the target files it watches; at most its 30 s re-read (file_sd refresh_interval) plus a scrape',
  },
  venvRestore: {
    what: 'venv from the deploy cache: 6 GB archive over the S3 gateway endpoint, checksummed, unpacked to 12 GB', minutes: m(0.3, 0.5, 1),
    basis: 'S3 at 1.5–5 GB/s to one large instance with parallel ranged GETs; zstd unpacking at ~1 GB/s onto a 1000 MiB/s volume',
  },
  weightsRestore: {
    what: 'weights from the deploy cache: 65 GB, checksummed (the Hub is asked only for the commit)', minutes: m(0.4, 0.7, 1.1),
    basis: '65 GB at 1.5–5 GB/s (typical 2.5) plus SHA-256 over four files at a time',
  },
} as const satisfies Record<string, ModelStep>;

type Case = keyof Minutes;
type StepId = keyof typeof DEPLOY_TIME_STEPS;

const pick = (c: Case, id: StepId) => DEPLOY_TIME_STEPS[id].minutes[c];
const each = (f: (c: Case) => number): Minutes => m(round(f('low')), round(f('typical')), round(f('high')));
const round = (x: number) => Math.round(x * 10) / 10;

/** Before this change: the nodes waited for the NAT route, then did everything one after another. */
export function serialDeploy(): Minutes {
  return each((c) => Math.max(pick(c, 'instanceProfile'), pick(c, 'natRoute')) + pick(c, 'boot') + pick(c, 'preJobs') +
    pick(c, 'torch') + pick(c, 'stackRest') + pick(c, 'stackSerialCopy') + pick(c, 'lmcacheBuild') + pick(c, 'checks') +
    pick(c, 'modelDownload') + pick(c, 'join'));
}

/** The jobs on a first deploy: the longest of the download, the stack install and torch-then-LMCache. */
export function firstDeployJobs(): Minutes {
  return each((c) => Math.max(pick(c, 'modelDownload'), pick(c, 'torch') + pick(c, 'stackRest'),
    pick(c, 'torch') + Math.max(pick(c, 'lmcacheBuild'), pick(c, 'stackRest'))));
}

/** When a node's jobs can reach the internet: after its own start-up, and not before the NAT route exists. */
const nodeWithRoute = (c: Case) => Math.max(pick(c, 'instanceProfile') + pick(c, 'boot') + pick(c, 'preJobs'), pick(c, 'natRoute'));

/** The end of every deploy: checks, Ray, and the head's monitoring gate (its monitoring job runs in the background). */
const tail = (c: Case) => pick(c, 'checks') + pick(c, 'join') + pick(c, 'monitoringGate');

/** A first deploy now: launch after the instance profile only, the long work in parallel (every job needs the route). */
export function firstDeploy(): Minutes {
  const jobs = firstDeployJobs();
  return each((c) => nodeWithRoute(c) + jobs[c] + tail(c));
}

/**
 * A repeat deploy with the deploy cache: the venv (S3 only) and the weights restored in parallel, nothing built. The
 * weights restore asks the Hub which commit `main` is first, so it waits for the NAT route.
 */
export function repeatDeploy(): Minutes {
  return each((c) => Math.max(pick(c, 'instanceProfile') + pick(c, 'boot') + pick(c, 'preJobs') + pick(c, 'venvRestore'),
    nodeWithRoute(c) + pick(c, 'weightsRestore')) + tail(c));
}

/** "10.1 min (6.3–15.6)": how the docs and the README quote a total. */
export function formatMinutes(x: Minutes): string {
  return `${x.typical.toFixed(1)} min (${x.low.toFixed(1)}–${x.high.toFixed(1)})`;
}
