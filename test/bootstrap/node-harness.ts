/**
 * Runs a rendered user data under bash with every node command replaced by a stub (first on PATH), all paths
 * under a temp dir (P5RAY_ROOT) and waits shortened. Stubs log their arguments; the fake S3 is a directory. The
 * venv's `python` is the machine's real Python running the real node-side Python files against the stand-in
 * packages of test/bootstrap/fakes (python-env.ts).
 */
import { spawn } from 'child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { parseClusterConfig, RawConfig } from '../../lib/config/cluster-config';
import {
  BOOTSTRAP_DEADLINE_MARGIN_SECONDS, BOOTSTRAP_ASSET_FILES, NodeBootstrapContext, headAddressKey, renderUserData, stageBootstrapAsset,
} from '../../lib/bootstrap';
import { testKeys } from '../helpers/test-keys';
import { ASSETS_DIR as SERVE_ASSETS_DIR } from '../../lib/serve/scripts';
import { FakePythonOptions, REAL_PYTHON, makeFakePython, writeZip } from './python-env';

/** The bootstrap asset as the stack stages it. */
const ASSET_DIR = stageBootstrapAsset();

export const INSTANCE_ID = 'i-0123456789abcdef0';
/** The commit the stand-in Hub answers for the model's main branch. */
export const MODEL_SHA = '8b49dbe3a1f7c2d6e0954c1b2a3f4d5e6f708192';
export const BUCKET = 'p5raykvcluster-artifactsbucket-0123456789ab';
export const SERVE_BUNDLE_URL = 's3://cdk-hnb659fds-assets-123456789012-us-east-1/assets/serve.zip';
/** The SSM parameter the user data names instead of the bundle; the stub answers SERVE_BUNDLE_URL. */
export const SERVE_BUNDLE_PARAMETER = '/p5-ray/P5RayKvCluster/serve-bundle';
export const NODE_GENERATION = 'a1b2c3d4';
export const PYTHON_FILES_URL = 's3://cdk-hnb659fds-assets-123456789012-us-east-1/assets/python.zip';
export const SIGNAL_URL = 'https://cloudformation-waitcondition-us-east-1.s3.amazonaws.com/' +
  'arn%3Aaws%3Acloudformation%3Aus-east-1%3A123456789012%3Astack/P5RayKvCluster/0c1d2e3f/NodesReadyHandle' +
  '?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20260101T000000Z&X-Amz-SignedHeaders=host' +
  '&X-Amz-Expires=86399&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20260101%2Fus-east-1%2Fs3%2Faws4_request' +
  `&X-Amz-Signature=${'0123456789abcdef'.repeat(4)}`;

const STUBS: Record<string, string> = {
  // STUB_SMI_NOISE=N: N warning lines after the GPUs, more than a pipe holds (a reader that stops early gets SIGPIPE'd writers).
  'nvidia-smi': `
for i in $(seq 1 "\${STUB_GPUS:-8}"); do echo "\${STUB_GPU_NAME:-NVIDIA H100 80GB HBM3}"; done
for i in $(seq 1 "\${STUB_SMI_NOISE:-0}"); do echo "WARNING: infoROM is corrupted at gpu 0000:53:00.0 (line $i)"; done`,
  fi_info: `
n=\${STUB_EFA:-32}
if [ "$n" -eq 0 ]; then echo "fi_getinfo: -61 (No data available)" >&2; exit 1; fi
for p in efa efa-direct; do for i in $(seq 1 "$n"); do
  printf 'provider: %s\\n    fabric: efa\\n    domain: rdmap%ss0-rdm\\n    type: FI_EP_RDM\\n' "$p" "$i"
done; done`,
  // STUB_KILL=TERM: the node is sent that signal (by cloud-init's shutdown, an operator) while it waits for the mount;
  // STUB_HANG=N: the check hangs N seconds (a wedged device).
  mountpoint: `
if [ -n "\${STUB_KILL:-}" ]; then kill "-$STUB_KILL" "$PPID"; sleep 1; fi
if [ -n "\${STUB_HANG:-}" ]; then sleep "$STUB_HANG"; fi
[ "\${STUB_NVME:-1}" = 1 ]`,
  // STUB_NAT_AFTER=N: the internet (PyPI, Hugging Face) answers from the N-th request on (the NAT route is late);
  // STUB_NO_NAT=1: never.
  curl: `
url="" body="" prev=""
for a in "$@"; do
  if [ "$prev" = --data-binary ]; then body=$a; fi
  case $a in http*) url=$a ;; esac
  prev=$a
done
case $url in
  https://pypi.org/* | https://huggingface.co/*)
    n=$(( $(cat "$STUB_DIR/internet-tries" 2>/dev/null || echo 0) + 1 )); echo "$n" >"$STUB_DIR/internet-tries"
    if [ -n "\${STUB_NO_NAT:-}" ] || [ "$n" -lt "\${STUB_NAT_AFTER:-1}" ]; then echo "curl: (28) Connection timed out after 5001 milliseconds" >&2; exit 28; fi
    # STUB_SLOW_NET=1: a working but slow route: the whole root index (tens of MB) does not arrive within 5 s.
    if [ -n "\${STUB_SLOW_NET:-}" ] && [ "$url" = https://pypi.org/simple/ ] && [[ " $* " != *" -I "* ]]; then
      echo "curl: (28) Operation timed out after 5000 milliseconds with 3145728 out of 41943040 bytes received" >&2; exit 28
    fi
    case $url in */revision/main) printf '{"id":"x","sha":"%s"}\n' "$STUB_MODEL_SHA" ;; esac
    exit 0 ;;
  */latest/api/token) echo tok ;;
  */meta-data/instance-id) echo "\${STUB_INSTANCE_ID}" ;;
  */meta-data/local-ipv4) echo "\${STUB_IP}" ;;
  */dynamic/instance-identity/document)
    printf '{\\n  "instanceId" : "%s",\\n  "instanceType" : "%s",\\n  "pendingTime" : "%s",\\n  "privateIp" : "%s"\\n}\\n' \\
      "$STUB_INSTANCE_ID" "$STUB_INSTANCE_TYPE" "$STUB_PENDING_TIME" "$STUB_IP" ;;
  # The observability stack on the node: Prometheus' API answers from the targets the head wrote (every one up but
  # STUB_PROM_DOWN=job/node); the exporters serve STUB_EFA ports and the STUB_DCGM_FIELDS.
  http://127.0.0.1:*/api/v1/targets)
    out=/dev/stdout prev=""; for a in "$@"; do if [ "$prev" = -o ]; then out=$a; fi; prev=$a; done
    "$STUB_REAL_PYTHON" -S "$STUB_DIR/prom-api.py" "$P5RAY_ROOT/etc/prometheus/p5-ray-targets" >"$out" ;;
  http://127.0.0.1:*/-/ready | http://127.0.0.1:*/api/health) [ -z "\${STUB_PROM_DEAD:-}" ] ;;
  http://127.0.0.1:9100/metrics) for i in $(seq 1 "\${STUB_EFA:-32}"); do printf 'p5ray_efa_tx_bytes_total{device="rdmap%ss0",port="1"} 0\n' "$i"; done ;;
  http://127.0.0.1:9400/metrics) for f in \${STUB_DCGM_FIELDS-DCGM_FI_DEV_GPU_UTIL DCGM_FI_PROF_SM_ACTIVE DCGM_FI_DEV_FB_USED}; do printf '%s{gpu="0"} 1\n' "$f"; done ;;
  # Grafana's key file: STUB_GRAFANA_KEY_FILE, made with real gpg (test/helpers/test-keys.ts).
  https://apt.grafana.com/gpg-full.key)
    prev=""; for a in "$@"; do if [ "$prev" = -o ]; then cp "$STUB_GRAFANA_KEY_FILE" "$a"; fi; prev=$a; done ;;
  http://*.ec2.archive.ubuntu.com/* | https://apt.grafana.com) ;;
  *) printf '%s\\n' "$url" >>"$STUB_DIR/signal-urls"; printf '%s\\n' "$body" >>"$STUB_DIR/signals.jsonl" ;;
esac`,
  // The AWS CLI config deploy_cache.py generates, logged with the call. STUB_S3_PUT_FAIL=<part of a key>: uploads
  // of matching keys are refused.
  aws: `
[ -z "\${AWS_CONFIG_FILE:-}" ] || echo "aws-config $* :: $(tr '\\n' ' ' <"$AWS_CONFIG_FILE")" >>"$STUB_DIR/calls.log"
case "$1 $2" in
  "--version "*) echo "aws-cli/2.99.0 stub" ;;
  "logs put-log-events") printf '%s\\n' "$*" >>"$STUB_DIR/cloudwatch.log" ;;
  "logs create-log-stream") ;;
  "secretsmanager get-secret-value") echo "\${STUB_SECRET:-hf_plain}" ;;
  # STUB_SSM_AFTER=N: SSM answers from the N-th call on (its VPC endpoint and the NAT route are not there yet).
  "ssm get-parameter")
    n=$(( $(cat "$STUB_DIR/ssm-reads" 2>/dev/null || echo 0) + 1 )); echo "$n" >"$STUB_DIR/ssm-reads"
    if [ "$n" -lt "\${STUB_SSM_AFTER:-1}" ]; then echo "Could not connect to the endpoint URL: https://ssm.us-east-1.amazonaws.com/" >&2; exit 255; fi
    [ "$4" = "$STUB_SERVE_PARAMETER" ] || { echo "ParameterNotFound: $4" >&2; exit 254; }
    echo "$STUB_SERVE_URL" ;;
  "s3 cp")
    shift 2; recursive=0; args=()
    for a in "$@"; do case $a in --recursive) recursive=1 ;; --only-show-errors) ;; *) args+=("$a") ;; esac; done
    src=\${args[0]} dst=\${args[1]}
    if [ "$src" = "s3://$STUB_BUCKET/$STUB_HEAD_KEY" ]; then
      n=$(( $(cat "$STUB_DIR/head-reads" 2>/dev/null || echo 0) + 1 )); echo "$n" >"$STUB_DIR/head-reads"
      if [ -n "\${STUB_HEAD_JSON:-}" ] && [ "$n" -ge "\${STUB_HEAD_AFTER:-1}" ]; then printf '%s\\n' "$STUB_HEAD_JSON"; exit 0; fi
      echo "fatal error: An error occurred (404) when calling the HeadObject operation: Key not found" >&2; exit 1
    fi
    case $src in
      s3://*) key=\${src#s3://*/}
         if [ "$src" = "$STUB_PYTHON_URL" ]; then
           n=$(( $(cat "$STUB_DIR/asset-reads" 2>/dev/null || echo 0) + 1 )); echo "$n" >"$STUB_DIR/asset-reads"
           if [ "$n" -lt "\${STUB_S3_AFTER:-1}" ]; then echo "fatal error: Could not connect to the endpoint URL" >&2; exit 1; fi
         fi
         if [ $recursive = 0 ] && [ ! -f "$STUB_DIR/s3/$key" ]; then
           echo "fatal error: An error occurred (404) when calling the HeadObject operation: Key $key does not exist" >&2; exit 1
         fi
         if [ $recursive = 1 ]; then cp -r "$STUB_DIR/s3/$key/." "$dst"; elif [ "$dst" = - ]; then cat "$STUB_DIR/s3/$key"; else cp "$STUB_DIR/s3/$key" "$dst"; fi ;;
      *) key=\${dst#s3://*/}
         if [ -n "\${STUB_S3_PUT_FAIL:-}" ] && [[ $key == *"$STUB_S3_PUT_FAIL"* ]]; then
           echo "upload failed: $src to $dst An error occurred (AccessDenied) when calling the PutObject operation" >&2; exit 1
         fi
         if [ $recursive = 1 ]; then mkdir -p "$STUB_DIR/s3/$key"; cp -r "$src/." "$STUB_DIR/s3/$key"
         else mkdir -p "$(dirname "$STUB_DIR/s3/$key")"; cp "$src" "$STUB_DIR/s3/$key"; fi ;;
    esac ;;
  *) echo "unexpected aws call: $*" >&2; exit 2 ;;
esac`,
  // Installs take STUB_TORCH_SECONDS (torch first), STUB_STACK_SECONDS (ray, vllm, nixl), or with STUB_OVERLAP as
  // long as the hold says; each logs its start and end in timeline.log. STUB_PIP_RC fails the stack install.
  uv: `
case $1 in
  --version) echo "uv 0.9.0 stub" ;;
  venv) for last; do :; done; mkdir -p "$last/bin" "$last/lib/__pycache__"; cp "$STUB_DIR/venv-python" "$last/bin/python"; cp "$STUB_DIR/venv-ray" "$last/bin/ray"
        echo bytecode >"$last/lib/__pycache__/site.cpython-312.pyc" ;;
  pip) echo "uv-env UV_LINK_MODE=\${UV_LINK_MODE:-} UV_CACHE_DIR=\${UV_CACHE_DIR:-} :: $*" >>"$STUB_DIR/calls.log"
       case " $* " in
         *" vllm=="*) what=stack secs=\${STUB_STACK_SECONDS:-0} rc=\${STUB_PIP_RC:-0} ;;
         *" torch=="*) what=torch secs=\${STUB_TORCH_SECONDS:-0} rc=0 ;;
         *) what=other secs=0 rc=0 ;;
       esac
       start=$(date +%s%3N); echo "$start start $what" >>"$STUB_DIR/timeline.log"
       if [ -n "\${STUB_OVERLAP:-}" ] && [ $what = stack ]; then "$STUB_DIR/hold" stack "$start" || exit 1; else sleep "$secs"; fi
       echo "$(date +%s%3N) end $what" >>"$STUB_DIR/timeline.log"
       exit "$rc" ;;
esac`,
  // The system Python: its version check answers STUB_PYVER; the node's own scripts and zipfile run on the real one.
  python3: `
case $1 in
  -c) echo "\${STUB_PYVER:-3.12}" ;;
  *.py) exec "$STUB_REAL_PYTHON" -S "$@" ;;
  -m) if [ "$2" = zipfile ]; then exec "$STUB_REAL_PYTHON" -S "$@"; fi
      for last; do :; done; mkdir -p "$last/bin"; printf '#!/bin/bash\\necho pip "$@" >>"$STUB_DIR/calls.log"\\n' >"$last/bin/pip"; chmod +x "$last/bin/pip"
      if [ -n "\${STUB_NO_AWS:-}" ]; then printf '#!/bin/bash\\nexec "$STUB_DIR/aws.real" "$@"\\n' >"$last/bin/aws"; chmod +x "$last/bin/aws"; fi ;;
esac`,
  systemctl: ':',
  // Runs the unit's command at once, in the foreground: the tests see what the detached upload did.
  'systemd-run': `
while [ "$#" -gt 0 ] && [ "$1" != -- ]; do shift; done
shift
"$@"`,
  'apt-get': ':',
  'dpkg-query': `
for last; do :; done
case $last in
  prometheus) echo "\${STUB_PROM_VERSION:-2.45.3+ds-2build1}" ;;
  prometheus-node-exporter) echo "1.7.0-1ubuntu0.2" ;;
  grafana) echo "13.2.3" ;;
esac`,
  docker: ':',
  mkfs: 'exit 1',
  'venv-ray': `[ "\${STUB_RAY_HEALTHY:-1}" = 1 ]`,
};

/**
 * hold <activity> <its start, ms>: with STUB_OVERLAP, the background jobs' stand-ins end by each other's progress
 * instead of after fixed sleeps, which prove nothing on a loaded machine unless they are long. The stack install (its
 * part after torch) ends only once the model download and the LMCache build have ended; each of those ends only once
 * the stack install has started, and has then run longer than it had before (it stands for work far longer than
 * installing torch). Jobs that run one after another never meet: the wait is bounded (STUB_HOLD_LIMIT, 30 s) and
 * fails loudly.
 */
const HOLD = `#!/bin/bash
what=$1 started=$2 timeline="$STUB_DIR/timeline.log" limit=\${STUB_HOLD_LIMIT:-30}
if [ "$what" = stack ]; then needs=("end model-download" "end lmcache-build"); else needs=("start stack"); fi
# seen <event>: whether timeline.log has it yet; sets AT to its time.
seen() {
  local ms event
  while read -r ms event; do if [ "$event" = "$1" ]; then AT=$ms; return 0; fi; done <"$timeline"
  return 1
}
SECONDS=0
for need in "\${needs[@]}"; do
  until seen "$need"; do
    if ((SECONDS >= limit)); then
      echo "hold: $what waited \${limit}s for '$need' in timeline.log: the jobs did not run side by side" >&2
      exit 1
    fi
    sleep 0.05
  done
done
if [ "$what" != stack ]; then
  # As long again after the stack install's start as before it, and 0.1 s more.
  left=$((AT + (AT - started) + 100 - $(date +%s%3N)))
  if ((left > 0)); then sleep "$((left / 1000)).$(printf '%03d' $((left % 1000)))"; fi
fi
`;

const REAL_DATE = ['/usr/bin/date', '/bin/date'].find((p) => existsSync(p)) ?? 'date';

/**
 * The clock, when a test makes the node's deadline come at a point of its choice (RunOptions.deadlineAfter): the real
 * time until the file appears, then the time that leaves that many seconds to the deadline, running on from there.
 * Dates the node names itself (date -d: its launch time, its deadline) are not the clock.
 */
const DATE = `#!/bin/bash
if [[ " $* " != *" -d "* ]] && [ -e "$STUB_DIR/$STUB_CLOCK_AFTER" ]; then
  if [ ! -e "$STUB_DIR/clock-offset" ]; then
    echo $((STUB_DEADLINE - STUB_CLOCK_LEFT - $(${REAL_DATE} +%s))) >"$STUB_DIR/clock-offset.$$"
    # The first reading after the file appeared sets the offset, however many jobs read the clock at once.
    ln "$STUB_DIR/clock-offset.$$" "$STUB_DIR/clock-offset" 2>/dev/null || true
    rm -f "$STUB_DIR/clock-offset.$$"
  fi
  exec ${REAL_DATE} -d "now + $(<"$STUB_DIR/clock-offset") seconds" "$@"
fi
exec ${REAL_DATE} "$@"
`;

const DEFAULT_IP = '10.0.0.21';

/** Prometheus' /api/v1/targets as the node's check reads it, from the file_sd files the head wrote. */
const PROM_API = `import json, os, sys
down = os.environ.get("STUB_PROM_DOWN", "")
active = []
for f in sorted(os.listdir(sys.argv[1])):
    if not f.endswith(".json"):
        continue
    job = f[:-5]
    for g in json.load(open(os.path.join(sys.argv[1], f))):
        for t in g["targets"]:
            bad = down == job + "/" + g["labels"]["node"]
            active.append({"labels": {"job": job, "instance": t, **g["labels"]}, "health": "down" if bad else "up",
                           "lastError": "connect: connection refused" if bad else ""})
print(json.dumps({"status": "success", "data": {"activeTargets": active}}))
`;

/**
 * What the Ray head finds from the GPU nodes and Ray: each GPU node's facts in the bucket (gpu-i at 10.0.1.<i+1>; a
 * GPU head uploads its own), Ray's service-discovery file listing every node's metrics agent (plus `extra`), and
 * Ray's generated Grafana dashboards in its session directory.
 */
function seedHeadMonitoring(ctx: NodeBootstrapContext, s3: string, root: string, headIp: string, extra?: string): void {
  const ips: string[] = [];
  mkdirSync(join(s3, 'cluster', 'nodes'), { recursive: true });
  for (let i = 0; i < ctx.config.gpuNodes; i++) {
    const ip = ctx.role === 'gpu' && i === ctx.gpuIndex ? headIp : `10.0.1.${i + 1}`;
    if (ip !== headIp) {
      writeFileSync(join(s3, 'cluster', 'nodes', `gpu-${i}.json`), JSON.stringify({ role: 'gpu', index: i, privateIp: ip }));
    }
    ips.push(ip);
  }
  if (ctx.role === 'head') ips.unshift(headIp);
  const ray = join(root, 'tmp', 'ray');
  mkdirSync(join(ray, 'session_latest', 'metrics', 'grafana', 'dashboards'), { recursive: true });
  // As Ray 2.58.0 writes it: every node's metrics agent, then the autoscaler's and the dashboard's metrics addresses.
  const listed = [...ips, ...(extra ? [extra] : [])].map((ip) => `${ip}:8080`).concat([`${headIp}:44217`, `${headIp}:44227`]);
  writeFileSync(join(ray, 'prom_metrics_service_discovery.json'), JSON.stringify([{ labels: { job: 'ray' }, targets: listed }]));
  writeFileSync(join(ray, 'session_latest', 'metrics', 'grafana', 'dashboards', 'serve_llm_grafana_dashboard.json'), '{"uid":"rayServeLlm"}');
}

export interface NodeRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly dir: string;
  readonly root: string;
  /** Every stub call, one line each: `<command> <args…>`. */
  readonly calls: string[];
  /** The bodies PUT to the signal URL, parsed. */
  readonly signals: Array<{ Status: string; Reason: string; UniqueId: string; Data: string }>;
  readonly signalUrls: string[];
  /** The environment of each venv-python call, as the call received it: `{ args, env }`. */
  readonly pythonCalls: Array<{ args: string; env: Record<string, string> }>;
  file(path: string): string;
}

export interface RunOptions {
  /** Seconds from the start until the node's deadline (the stub's launch time is set to give this); default 600, far beyond any run. */
  readonly waitLimit?: number;
  /** The node's Python packages (LMCache kernels, installed versions). */
  readonly python?: FakePythonOptions;
  /** Changes the rendered user data before it runs (to break it on purpose). */
  readonly editUserData?: (userData: string) => string;
  /** A fake S3 folder shared between runs (the deploy cache of a repeat deploy); default: the run's own. */
  readonly s3?: string;
  /**
   * The Grafana key fingerprint monitoring.env pins. Grafana's own key cannot be fetched here: a real gpg key stands
   * in for it (test/helpers/test-keys.ts); default: the stand-in's signer, which STUB_GRAFANA_KEY_FILE (default: the
   * stand-in's full key file) holds among decoys.
   */
  readonly grafanaKeyFpr?: string;
  /**
   * Brings the deadline near at a chosen point of the run instead of after a wait in real time: once `file` (a path
   * in the run's folder, e.g. an object the node writes to the fake S3) exists, the node's clock reads `left`
   * seconds before its deadline and runs on from there.
   */
  readonly deadlineAfter?: { readonly file: string; readonly left: number };
}

/** The asset's files as the stack stages them, with monitoring.env pinning the stand-in Grafana key. */
function assetFiles(grafanaKeyFpr: string): Record<string, string> {
  return Object.fromEntries(BOOTSTRAP_ASSET_FILES.map((f) => {
    const text = readFileSync(join(ASSET_DIR, f), 'utf8');
    if (f !== 'monitoring.env') return [f, text];
    const pinned = text.replace(/^GRAFANA_KEY_FPR='[0-9A-F]{40}'$/m, `GRAFANA_KEY_FPR='${grafanaKeyFpr}'`);
    if (pinned === text) throw new Error('monitoring.env pins no GRAFANA_KEY_FPR to replace');
    return [f, pinned];
  }));
}

export function testConfig(raw: RawConfig = {}) {
  return parseClusterConfig(raw);
}

export function context(over: Partial<NodeBootstrapContext> & { raw?: RawConfig } = {}): NodeBootstrapContext {
  const { raw, ...rest } = over;
  return {
    config: testConfig(raw),
    role: 'gpu',
    isRayHead: false,
    gpuIndex: 1,
    bucketName: BUCKET,
    signalUrl: SIGNAL_URL,
    logGroupName: '/p5-ray/P5RayKvCluster/bootstrap',
    stackName: 'P5RayKvCluster',
    serveBundleParameter: SERVE_BUNDLE_PARAMETER,
    nodeGeneration: NODE_GENERATION,
    pythonFilesUrl: PYTHON_FILES_URL,
    ...rest,
  };
}

/** Seconds from the launch to the node's deadline. */
function deadlineWindow(ctx: NodeBootstrapContext): number {
  return ctx.config.bootstrapTimeoutMinutes * 60 - BOOTSTRAP_DEADLINE_MARGIN_SECONDS;
}

/** The launch time that puts the node's deadline `waitLimit` seconds from now. */
export function launchTimeFor(ctx: NodeBootstrapContext, waitLimit: number): string {
  return new Date(Date.now() - (deadlineWindow(ctx) - waitLimit) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
}

const zips = new Map<string, string>();

/** The zip of these files, made once per test process (a Python start each): runs copy it. */
function zipOf(files: Record<string, string>): string {
  const key = JSON.stringify(files);
  let path = zips.get(key);
  if (!path) {
    path = join(mkdtempSync(join(tmpdir(), 'p5-zip-')), 'files.zip');
    writeZip(path, files);
    zips.set(key, path);
  }
  return path;
}

let placed = 0;

/** Copies a zip into the fake S3 whole at once: runs that share it may be reading the one it replaces. */
function placeZip(zip: string, dest: string): void {
  const part = `${dest}.${process.pid}-${++placed}`;
  copyFileSync(zip, part);
  renameSync(part, dest);
}

function shellQuoted(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export async function runNode(ctx: NodeBootstrapContext, env: Record<string, string> = {}, options: RunOptions = {}): Promise<NodeRun> {
  const dir = mkdtempSync(join(tmpdir(), 'p5-boot-'));
  const bin = join(dir, 'bin');
  const root = join(dir, 'root');
  mkdirSync(bin);
  mkdirSync(root);
  // The serve bundle asset: a stand-in zip in the CDK asset bucket, and what the venv python extracts from it.
  // A shared fake S3 (a deploy cache that outlives the run) or this run's own.
  if (options.s3) symlinkSync(options.s3, join(dir, 's3'));
  mkdirSync(join(dir, 's3', 'assets'), { recursive: true });
  placeZip(zipOf({ 'run_bm.sh': 'echo bm\n', 'bundle_sync.py': readFileSync(join(SERVE_ASSETS_DIR, 'bundle_sync.py'), 'utf8') }),
    join(dir, 's3', 'assets', 'serve.zip'));
  const keys = testKeys();
  placeZip(zipOf(assetFiles(options.grafanaKeyFpr ?? keys.signer)), join(dir, 's3', 'assets', 'python.zip'));
  writeFileSync(join(dir, 'prom-api.py'), PROM_API);
  if (ctx.isRayHead) seedHeadMonitoring(ctx, join(dir, 's3'), root, env.STUB_IP ?? DEFAULT_IP, env.STUB_RAY_SD_EXTRA);
  const stubEnv: Record<string, string> = {
    STUB_DIR: dir,
    STUB_BUCKET: ctx.bucketName,
    STUB_INSTANCE_ID: INSTANCE_ID,
    STUB_IP: DEFAULT_IP,
    STUB_INSTANCE_TYPE: ctx.role === 'gpu' ? ctx.config.gpuInstanceType : ctx.config.headInstanceType,
    STUB_PENDING_TIME: launchTimeFor(ctx, options.waitLimit ?? 600),
    STUB_REAL_PYTHON: REAL_PYTHON.executable,
    STUB_PYTHON_URL: ctx.pythonFilesUrl,
    STUB_SERVE_PARAMETER: ctx.serveBundleParameter,
    STUB_SERVE_URL: SERVE_BUNDLE_URL,
    STUB_HEAD_KEY: headAddressKey(ctx.nodeGeneration),
    STUB_MODEL_SHA: MODEL_SHA,
    STUB_GRAFANA_KEY_FILE: keys.fullFile,
    ...env,
  };
  if (options.deadlineAfter) {
    Object.assign(stubEnv, {
      STUB_CLOCK_AFTER: options.deadlineAfter.file,
      STUB_CLOCK_LEFT: String(options.deadlineAfter.left),
      STUB_DEADLINE: String(Date.parse(stubEnv.STUB_PENDING_TIME) / 1000 + deadlineWindow(ctx)),
    });
  }
  // The venv's python: logs its call and environment, then runs the real Python on the stand-in packages. The
  // STUB_ settings come from a file, as the probes run under env -i.
  makeFakePython(dir, options.python);
  writeFileSync(join(dir, 'stub.env'), Object.entries(stubEnv).filter(([k]) => k.startsWith('STUB_'))
    .map(([k, v]) => `${k}=${shellQuoted(v)}\n`).join(''));
  writeFileSync(join(dir, 'venv-python'), [
    '#!/bin/bash',
    // The run it belongs to, from where it sits (<run>/root/opt/…/bin/python): a venv restored from the deploy cache
    // holds a copy made by an earlier run, and the probes run it under env -i.
    'DIR=${0%/root/opt/*}',
    `echo "venv-python $*" >>"$DIR/calls.log"`,
    `{ printf 'ARGS %s\\n' "$*"; env; echo END; } >>"$DIR/python-env.log"`,
    `set -a; . "$DIR/stub.env"; set +a`,
    // LMCache's build (pip wheel): STUB_BUILD_SECONDS long (with STUB_OVERLAP: as the hold says), logged with its
    // environment, leaves a wheel in -w.
    'if [ "$1 $2 $3" = "-m pip wheel" ]; then',
    '  echo "build-env TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-} LMCACHE_CUDA_MAJOR=${LMCACHE_CUDA_MAJOR:-} CUDA_HOME=${CUDA_HOME:-}" >>"$STUB_DIR/calls.log"',
    '  w=""; prev=""; for a in "$@"; do [ "$prev" = -w ] && w=$a; prev=$a; done',
    '  start=$(date +%s%3N); echo "$start start lmcache-build" >>"$STUB_DIR/timeline.log"',
    '  if [ -n "${STUB_OVERLAP:-}" ]; then "$STUB_DIR/hold" lmcache-build "$start" || exit 1; else sleep "${STUB_BUILD_SECONDS:-0}"; fi',
    '  mkdir -p "$w"; echo "lmcache wheel built for sm_${TORCH_CUDA_ARCH_LIST:-}" >"$w/lmcache-0.5.6-cp312-cp312-linux_x86_64.whl"',
    '  echo "$(date +%s%3N) end lmcache-build" >>"$STUB_DIR/timeline.log"; exit "${STUB_BUILD_RC:-0}"',
    'fi',
    'export PYTHONPATH="$DIR/site" PYTHONDONTWRITEBYTECODE=1',
    `exec ${shellQuoted(REAL_PYTHON.executable)} -S "$@"`,
    '',
  ].join('\n'));
  chmodSync(join(dir, 'venv-python'), 0o755);
  for (const [name, body] of Object.entries(STUBS)) {
    const target = name.startsWith('venv-') ? join(dir, name) : join(bin, name);
    writeFileSync(target, `#!/bin/bash\necho "${name} $*" >>"$STUB_DIR/calls.log"\n${body}\n`);
    chmodSync(target, 0o755);
  }
  writeFileSync(join(dir, 'hold'), HOLD, { mode: 0o755 });
  // Not logged in calls.log, as the other stubs are: the node reads the clock for every line it writes.
  if (options.deadlineAfter) writeFileSync(join(bin, 'date'), DATE, { mode: 0o755 });
  if (env.STUB_NO_AWS) {
    // The node lacks the AWS CLI until the tools step installs one (the python3 -m venv stub writes a shim).
    renameSync(join(bin, 'aws'), join(dir, 'aws.real'));
  }
  const rendered = renderUserData(ctx);
  const userData = options.editUserData ? options.editUserData(rendered) : rendered;
  writeFileSync(join(dir, 'user-data.sh'), userData);
  const child = spawn('bash', [join(dir, 'user-data.sh')], {
    env: {
      PATH: `${bin}:/usr/bin:/bin`,
      HOME: dir,
      P5RAY_ROOT: root,
      P5RAY_IMDS_URL: 'http://imds.test',
      P5RAY_WAIT_INTERVAL: '0.02',
      P5RAY_PROGRESS_EVERY: '0',
      P5RAY_NVME_WAIT: '1',
      P5RAY_RAY_WAIT: '10',
      P5RAY_PYTHON: join(bin, 'python3'),
      // The Ray head's wait for the GPU nodes' timing files, after its signal: one look (no other node uploads one here).
      P5RAY_TIMING_WAIT: '0',
      ...stubEnv,
    },
  });
  let stdout = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stdout += d; });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const read = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8') : '');
  const lines = (p: string) => read(p).split('\n').filter((l) => l !== '');
  return {
    code,
    stdout,
    dir,
    root,
    calls: lines(join(dir, 'calls.log')),
    signals: lines(join(dir, 'signals.jsonl')).map((l) => JSON.parse(l)),
    signalUrls: lines(join(dir, 'signal-urls')),
    pythonCalls: read(join(dir, 'python-env.log')).split('END\n').filter((b) => b.startsWith('ARGS ')).map((block) => {
      const [first, ...vars] = block.trimEnd().split('\n');
      return { args: first.slice(5), env: Object.fromEntries(vars.map((v) => [v.slice(0, v.indexOf('=')), v.slice(v.indexOf('=') + 1)])) };
    }),
    file: (p: string) => read(join(root, p)),
  };
}

/**
 * For a wait that is to run out (its limit, the deadline): a few looks, not one every 20 ms (the harness's interval,
 * for waits that end after a few tries). Each look starts stubs, and some start Python.
 */
export const FEW_LOOKS = { P5RAY_WAIT_INTERVAL: '0.5' };

/** The Ray head's address as a worker finds it published (aws s3 cp of the head key answers it). */
export const HEAD_PUBLISHED = { STUB_HEAD_JSON: '{"ip":"10.0.0.10","port":6379,"instanceId":"i-0head","dashboardPort":8265}' };

let healthy: Promise<NodeRun> | undefined;

/**
 * The healthy GPU worker (every check passes, the head's address is published): one run per test process, which
 * each test that describes it reads. Only for tests that read the run and its files, never change them.
 */
export function healthyWorker(): Promise<NodeRun> {
  healthy ??= runNode(context(), HEAD_PUBLISHED);
  return healthy;
}
