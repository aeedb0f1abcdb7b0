import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

const PYTHON = join(resolve(__dirname, '..', '..'), '.test-venv', 'bin', 'python');

/**
 * Starts a one-node Ray cluster (the real Ray of .test-venv) in a process of its own and prints its GCS address; the
 * cluster lives until that process's stdin closes (stop(), or this test process ending in any way), then shuts down.
 */
const HOLDER = `
import sys, ray
ray.init(address="local", num_cpus=0, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
print(ray.get_runtime_context().gcs_address, flush=True)
sys.stdin.read()
ray.shutdown()
`;

export interface RayCluster {
  /** What RAY_ADDRESS (or ray.init) takes to connect to it: host:port of its GCS. */
  readonly address: string;
  stop(): Promise<void>;
}

/**
 * A Ray cluster that several tests connect to, as a node's scripts connect to the running cluster: starting one
 * costs seconds, connecting a driver to it much less.
 */
export function startRayCluster(): Promise<RayCluster> {
  const child = spawn(PYTHON, ['-c', HOLDER], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  return new Promise((done, fail) => {
    child.stdout.setEncoding('utf8').once('data', (line: string) => {
      done({
        address: line.trim(),
        stop: async () => { child.stdin.end(); await exited; },
      });
    });
    child.once('exit', (code) => fail(new Error(`the Ray cluster exited ${code} before it was up:\n${stderr}`)));
  });
}
