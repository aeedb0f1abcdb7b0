/**
 * Runs each role's rendered user data end to end against stub commands (no GPUs, EFA or AWS here): what it
 * checks, what it installs, how it joins, and what it tells CloudFormation.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SOFTWARE } from '../../lib/catalog/software';
import { BUCKET, INSTANCE_ID, NODE_GENERATION, SERVE_BUNDLE_PARAMETER, SERVE_BUNDLE_URL, SIGNAL_URL, FEW_LOOKS, context, healthyWorker, runNode } from './node-harness';

const HEAD_JSON = '{"ip":"10.0.0.10","port":6379,"instanceId":"i-0head","dashboardPort":8265}';
const HEAD_PUBLISHED = { STUB_HEAD_JSON: HEAD_JSON };

describe('node bootstrap', { concurrency: 4 }, () => {
  test('a GPU worker that passes every check signals SUCCESS once, as its instance, with a summary', async () => {
    const run = await healthyWorker();
    assert.equal(run.code, 0, run.stdout);
    assert.equal(run.signals.length, 1, run.stdout);
    const [signal] = run.signals;
    assert.equal(signal.Status, 'SUCCESS');
    assert.equal(signal.UniqueId, INSTANCE_ID);
    assert.match(signal.Data, /8 × NVIDIA H100/);
    assert.match(signal.Data, /32 EFA/);
    assert.match(signal.Data, new RegExp(`vllm=${SOFTWARE.vllm}`));
    assert.deepEqual(run.signalUrls, [SIGNAL_URL], 'the presigned URL survives quoting byte for byte');
  });

  test('prints numbered progress lines with elapsed time and streams them to CloudWatch', async () => {
    const run = await healthyWorker();
    const steps = run.stdout.match(/\[bootstrap gpu 1\] step \d+\/15: .* \(\d+s\)/g) ?? [];
    assert.equal(steps.length, 15, run.stdout);
    assert.match(steps[2], /step 3\/15: verify 8 GPUs/);
    // Workers get the serve bundle too: Ray may run the app build task (which imports builder.py) on any node.
    assert.match(steps[8], /step 9\/15: copy the serve bundle/);
    assert.equal(run.file('opt/p5-ray/serve/run_bm.sh'), 'echo bm\n');
    // The user data names the bundle's SSM parameter, never the bundle: the node reads the URL there.
    assert.ok(run.calls.some((c) => c.startsWith(`aws ssm get-parameter --name ${SERVE_BUNDLE_PARAMETER} `)), run.calls.join('\n'));
    assert.ok(run.calls.some((c) => c.startsWith(`aws s3 cp --only-show-errors ${SERVE_BUNDLE_URL} `)), run.calls.join('\n'));
    const record = JSON.parse(run.file('opt/p5-ray/serve/serve-bundle.json'));
    assert.equal(record.source, SERVE_BUNDLE_URL);
    assert.equal(record.parameter, SERVE_BUNDLE_PARAMETER);
    assert.deepEqual(record.files, ['bundle_sync.py', 'run_bm.sh']);
    assert.ok(!run.calls.some((c) => c.includes(`s3://${BUCKET}/serve`)), 'only the head writes serve/ to the bucket');
    assert.match(run.file('var/log/p5-ray-bootstrap.log'), /step 15\/15: start Ray under systemd/);
    const cw = run.calls.filter((c) => c.startsWith('aws logs put-log-events'));
    assert.ok(cw.length > 0);
    assert.ok(cw.every((c) => c.includes(`--log-stream-name gpu-1/${INSTANCE_ID}`)), cw.join('\n'));
    assert.ok(cw.some((c) => c.includes('step 1/15: read the instance identity')));
  });

  test('installs exactly the pinned versions into the venv with uv and never formats the NVMe', async () => {
    const run = await healthyWorker();
    const installs = run.calls.filter((c) => c.startsWith('uv pip install'));
    const torchFirst = installs.find((c) => c.includes(`torch==${SOFTWARE.torch}`) && !c.includes('vllm=='));
    const install = installs.find((c) => c.includes('vllm=='));
    assert.ok(torchFirst && install, run.calls.join('\n'));
    assert.ok(installs.indexOf(torchFirst) < installs.indexOf(install), 'torch first, so LMCache can be built while the rest installs');
    // With torch come LMCache's own build requirements: --no-build-isolation installs none of them.
    for (const req of SOFTWARE.lmcacheBuildRequires) assert.ok(torchFirst.split(' ').includes(req), `${req} in ${torchFirst}`);
    for (const pin of [`ray[serve,llm]==${SOFTWARE.ray}`, `vllm==${SOFTWARE.vllm}`, `nixl==${SOFTWARE.nixl}`, `torch==${SOFTWARE.torch}`]) {
      assert.ok(install.includes(pin), `${pin} in ${install}`);
    }
    // LMCache is compiled from source against the torch just installed, for the H100's sm_90 only, into a wheel
    // that is installed once the stack is in.
    const build = run.calls.find((c) => c.startsWith('venv-python -m pip wheel'));
    assert.match(build ?? '', new RegExp(`--no-build-isolation --no-deps --no-binary lmcache -w \\S+ lmcache==${SOFTWARE.lmcache.replace(/\./g, '\\.')}$`));
    assert.match(run.calls.find((c) => c.startsWith('build-env')) ?? '', /^build-env TORCH_CUDA_ARCH_LIST=9\.0 LMCACHE_CUDA_MAJOR=13 /);
    assert.match(installs.at(-1)!, /uv pip install --python \S+\/opt\/p5-ray\/venv\/bin\/python \S+\/lmcache-0\.5\.6-cp312-cp312-linux_x86_64\.whl$/);
    assert.match(install, /--python \S+\/opt\/p5-ray\/venv\/bin\/python/);
    // uv's cache on the venv's filesystem, hard-linking: ~12 GB are not copied.
    // The venv's installs hard-link from uv's cache on the same filesystem; the download's own environment (on the
    // NVMe) copies.
    const envs = run.calls.filter((c) => c.startsWith('uv-env'));
    assert.ok(envs.length > 1, run.calls.join('\n'));
    for (const env of envs) {
      const mode = env.includes('/hf-env/') ? 'copy' : 'hardlink';
      assert.match(env, new RegExp(`UV_LINK_MODE=${mode} UV_CACHE_DIR=\\S+\\/opt\\/p5-ray\\/uv-cache :: pip install`), env);
    }
    assert.ok(!run.calls.some((c) => /^(mkfs|pip )/.test(c)), run.calls.join('\n'));
    // apt only for the exporters (node_exporter from the Ubuntu archive): never for the Python stack.
    assert.deepEqual(run.calls.filter((c) => c.startsWith('apt-get') && c.includes(' install ')).map((c) => c.split(' ').pop()),
      ['prometheus-node-exporter']);
    assert.ok(run.calls.some((c) => c.startsWith('mountpoint -q') && c.endsWith('/opt/dlami/nvme')));
  });

  test('the worker joins the head address from head.json under systemd, with the EFA environment', async () => {
    const run = await healthyWorker();
    const unit = run.file('etc/systemd/system/ray.service');
    assert.match(unit, /^ExecStart=\/opt\/p5-ray\/venv\/bin\/ray start --block --node-ip-address=10\.0\.0\.21 --metrics-export-port=8080 --address=10\.0\.0\.10:6379$/m);
    assert.match(unit, /^Restart=on-failure$/m);
    assert.match(unit, /^LimitNOFILE=65536$/m);
    assert.match(unit, /^After=network-online\.target dlami-nvme\.service$/m);
    // EFA and LMCache pin host memory; a service gets 8 MB of locked memory unless its unit says otherwise.
    assert.match(unit, /^LimitMEMLOCK=infinity$/m);
    assert.doesNotMatch(unit, /--head/);
    assert.ok(run.calls.includes('systemctl enable --now ray.service'));
    const env = run.file('etc/p5-ray/ray.env');
    assert.match(env, /^PATH=\/opt\/p5-ray\/venv\/bin:\/usr\/local\/cuda\/bin:/m, 'engines find the venv\'s ninja and CUDA\'s nvcc');
    assert.match(env, /^FI_PROVIDER=efa$/m);
    assert.match(env, /^HF_HOME=\/opt\/dlami\/nvme\/hf$/m);
    assert.doesNotMatch(env, /NIXL_LOG_LEVEL=DEBUG/);
  });

  test('a wrong GPU count signals FAILURE naming the step and both counts, before installing anything', async () => {
    const run = await runNode(context(), { ...HEAD_PUBLISHED, STUB_GPUS: '7' });
    assert.notEqual(run.code, 0);
    assert.equal(run.signals.length, 1, run.stdout);
    assert.equal(run.signals[0].Status, 'FAILURE');
    assert.equal(run.signals[0].UniqueId, INSTANCE_ID);
    assert.match(run.signals[0].Reason, /step 3\/15 \(verify 8 GPUs\): expected 8 H100 GPUs \(p5\.48xlarge\), found 7/);
    assert.ok(!run.calls.some((c) => c.startsWith('uv pip')), 'failed fast');
  });

  test('too few EFA devices signals FAILURE with the expected and found counts', async () => {
    const run = await runNode(context(), { ...HEAD_PUBLISHED, STUB_EFA: '16' });
    assert.equal(run.signals.length, 1, run.stdout);
    assert.equal(run.signals[0].Status, 'FAILURE');
    assert.match(run.signals[0].Reason, /step 4\/15 \(verify 32 EFA devices\): expected 32 EFA devices \(p5\.48xlarge\), found 16/);
  });

  test('no EFA at all (fi_info fails) is reported as found 0, not as a bare exit code', async () => {
    const run = await runNode(context(), { ...HEAD_PUBLISHED, STUB_EFA: '0' });
    assert.equal(run.signals.length, 1);
    assert.match(run.signals[0].Reason, /expected 32 EFA devices \(p5\.48xlarge\), found 0 \(.*No data available/);
  });

  test('p5en expects 16 EFA devices and accepts 16', async () => {
    const run = await runNode(context({ raw: { gpuInstanceType: 'p5en.48xlarge' } }),
      { ...HEAD_PUBLISHED, STUB_EFA: '16', STUB_GPU_NAME: 'NVIDIA H200' });
    assert.equal(run.signals.length, 1, run.stdout);
    assert.equal(run.signals[0].Status, 'SUCCESS', run.signals[0].Reason);
  });

  test('a missing NVMe mount fails the node without formatting anything', async () => {
    const run = await runNode(context(), { ...HEAD_PUBLISHED, STUB_NVME: '0', ...FEW_LOOKS });
    assert.equal(run.signals.length, 1);
    assert.match(run.signals[0].Reason, /step 2\/15 .*no filesystem mounted at \/opt\/dlami\/nvme/);
    assert.ok(!run.calls.some((c) => c.startsWith('mkfs')));
  });

  test('the worker waits for head.json with progress lines, then joins the published address', async () => {
    const run = await runNode(context(), { STUB_HEAD_JSON: HEAD_JSON, STUB_HEAD_AFTER: '4' });
    assert.equal(run.signals[0]?.Status, 'SUCCESS', run.stdout);
    assert.match(run.stdout, /waiting for the Ray head .*not published yet/);
    assert.equal(run.calls.filter((c) => c.startsWith('aws s3 cp') && c.includes(`cluster/${NODE_GENERATION}/head.json`)).length, 4);
    assert.match(run.file('etc/systemd/system/ray.service'), /--address=10\.0\.0\.10:6379/);
  });

  test('a head that never answers fails the worker within the wait limit, saying what it saw', async () => {
    // The deadline comes while the worker looks for the head: 2 s after it uploaded its node facts (step 13).
    const run = await runNode(context(), { ...HEAD_PUBLISHED, STUB_RAY_HEALTHY: '0', ...FEW_LOOKS },
      { deadlineAfter: { file: 's3/cluster/nodes/gpu-1.json', left: 2 } });
    assert.equal(run.signals.length, 1);
    const within = /step 14\/15 \(find the Ray head\): no Ray head answered within (\d+)s: 10\.0\.0\.10:6379 does not answer/.exec(run.signals[0].Reason);
    assert.ok(within && Number(within[1]) <= 2, run.signals[0].Reason);
    assert.match(run.stdout, /waiting for the Ray head .*10\.0\.0\.10:6379 does not answer/);
    assert.ok(!run.calls.some((c) => c.startsWith('systemctl enable') && c.includes('ray.service')));
  });

  test('a failing command in a background job (uv pip install) fails the node naming the job, the command and its exit code', async () => {
    const run = await runNode(context(), { ...HEAD_PUBLISHED, STUB_PIP_RC: '3' });
    assert.equal(run.code, 1);
    assert.equal(run.signals.length, 1, run.stdout);
    assert.match(run.signals[0].Reason, /^step \d+\/15 \([^)]*\): job stack-install failed: 'uv pip install .*vllm==.*' exited 3 \(line \d+\)/);
    assert.match(run.stdout, /\[bootstrap gpu 1\] job stack-install: failed \(\d+s\): 'uv pip install/);
  });

  test('the CPU head starts Ray without GPUs or CPUs, publishes its address, copies the bundle, waits for all GPUs', async () => {
    const run = await runNode(context({ role: 'head', isRayHead: true, gpuIndex: 0 }), { STUB_IP: '10.0.0.10' });
    assert.equal(run.signals.length, 1, run.stdout);
    assert.equal(run.signals[0].Status, 'SUCCESS', run.signals[0].Reason);
    assert.match(run.signals[0].Data, /ray head 10\.0\.0\.10:6379; cluster 3 nodes, 16\/16 GPUs/);
    const unit = run.file('etc/systemd/system/ray.service');
    assert.match(unit, /ray start --block --node-ip-address=10\.0\.0\.10 --metrics-export-port=8080 --head --port=6379 --dashboard-host=0\.0\.0\.0 .*--num-gpus=0 --num-cpus=0/);
    assert.deepEqual(JSON.parse(run.file(`../s3/cluster/${NODE_GENERATION}/head.json`)),
      { ip: '10.0.0.10', port: 6379, instanceId: INSTANCE_ID, dashboardPort: 8265 });
    assert.equal(run.file('opt/p5-ray/serve/run_bm.sh'), 'echo bm\n');
    assert.equal(run.file('../s3/serve/run_bm.sh'), 'echo bm\n', 'the head copies the bundle to the artifacts bucket');
    assert.ok(!run.calls.some((c) => /^(nvidia-smi|fi_info|mountpoint)/.test(c)), 'no GPU checks on the CPU head');
    assert.ok(!run.calls.some((c) => c.includes('lmcache==')), 'no LMCache build on the CPU head: only vLLM engines use it');
    assert.doesNotMatch(run.file('etc/p5-ray/ray.env'), /FI_PROVIDER/);
  });

  test('the head fails with the GPU count when not all GPU nodes join in time', async () => {
    const run = await runNode(context({ role: 'head', isRayHead: true, gpuIndex: 0 }),
      { STUB_IP: '10.0.0.10', STUB_CLUSTER: 'nodes=2 gpus=8 mine=0', ...FEW_LOOKS },
      // The deadline comes while it waits for the GPUs: 2 s after it published its address (the step before).
      { deadlineAfter: { file: `s3/cluster/${NODE_GENERATION}/head.json`, left: 2 } });
    assert.equal(run.signals.length, 1);
    const within = /wait for all 16 GPUs to join\): only 8 of 16 GPUs joined within (\d+)s \(2 nodes alive; expected 2 × 8\)/.exec(run.signals[0].Reason);
    assert.ok(within && Number(within[1]) <= 2, run.signals[0].Reason);
    assert.match(run.stdout, /waiting for 16 GPUs on 2 nodes .*: 2 nodes alive, 8 GPUs/);
  });

  test('with headInstanceType=none, GPU node 0 is the Ray head and keeps its GPUs', async () => {
    const run = await runNode(context({ raw: { headInstanceType: 'none' }, gpuIndex: 0, isRayHead: true }),
      { STUB_IP: '10.0.0.20' });
    assert.equal(run.signals[0]?.Status, 'SUCCESS', run.stdout);
    const unit = run.file('etc/systemd/system/ray.service');
    assert.match(unit, /--head --port=6379/);
    assert.doesNotMatch(unit, /--num-gpus/);
    assert.ok(run.calls.includes('fi_info -p efa -t FI_EP_RDM'));
    assert.match(run.file(`../s3/cluster/${NODE_GENERATION}/head.json`), /"ip":"10\.0\.0\.20"/);
    assert.match(run.stdout, /step 16\/17: wait for all 16 GPUs to join/);
  });

  test('installs the AWS CLI into a tool venv when the AMI lacks it, and reads the HF token from Secrets Manager', async () => {
    const run = await runNode(context({
      raw: { hfTokenSecretName: 'hf/token' },
      hfTokenSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:hf/token-AbCdEf',
    }), { ...HEAD_PUBLISHED, STUB_NO_AWS: '1', STUB_SECRET: '{"HF_TOKEN":"hf_secretvalue"}' });
    assert.equal(run.signals[0]?.Status, 'SUCCESS', run.stdout);
    assert.ok(run.calls.some((c) => /^python3 -m venv \S+\/opt\/p5-ray\/tools$/.test(c)), run.calls.join('\n'));
    assert.ok(run.calls.includes('pip install -q awscli'));
    assert.equal(run.file('etc/p5-ray/hf_token'), 'hf_secretvalue');
    assert.match(run.file('etc/p5-ray/ray.env'), /^HF_TOKEN_PATH=\/etc\/p5-ray\/hf_token$/m);
    assert.ok(run.calls.some((c) => c.startsWith('aws logs put-log-events') && c.includes('step 1/15')),
      'lines logged before the CLI existed still reach CloudWatch');
  });

  test('a Python other than the pinned one stops the node before it installs anything', async () => {
    const run = await runNode(context(), { ...HEAD_PUBLISHED, STUB_PYVER: '3.10' });
    assert.match(run.signals[0]?.Reason ?? '', /system Python is 3\.10 .*expects 3\.12/);
    assert.ok(!run.calls.some((c) => c.startsWith('uv venv')));
  });

  test('cluster.env holds the settings, the discovered identity, and is readable by root only', async () => {
    const run = await healthyWorker();
    const env = run.file('etc/p5-ray/cluster.env');
    assert.match(env, new RegExp(`^BUCKET='${BUCKET}'$`, 'm'));
    assert.match(env, new RegExp(`^INSTANCE_ID='${INSTANCE_ID}'$`, 'm'));
    assert.match(env, /^PRIVATE_IP='10\.0\.0\.21'$/m);
    const { statSync } = await import('node:fs');
    assert.equal(statSync(`${run.root}/etc/p5-ray/cluster.env`).mode & 0o077, 0);
  });
});
