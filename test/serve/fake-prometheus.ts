import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const PYTHON = join(resolve(__dirname, '..', '..'), '.test-venv', 'bin', 'python');

export interface Series { readonly metric: Record<string, string>; readonly samples: readonly (readonly [number | string, number])[] }

/** The fake Prometheus (fake_prometheus.py) serving `series`; stopped by the returned function. */
export async function fakePrometheus(series: readonly Series[], env: Record<string, string> = {}): Promise<{ url: string; stop: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'fake-prom-'));
  const data = join(dir, 'data.json');
  writeFileSync(data, JSON.stringify({ series }));
  const child: ChildProcess = spawn(PYTHON, [join(__dirname, 'fake_prometheus.py'), data], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  const port = await new Promise<string>((done, fail) => {
    child.stdout?.once('data', (chunk: Buffer) => {
      const m = /port (\d+)/.exec(chunk.toString());
      if (m) done(m[1]); else fail(new Error(`fake Prometheus said ${chunk.toString()}`));
    });
    child.once('exit', (code) => fail(new Error(`fake Prometheus exited ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}

