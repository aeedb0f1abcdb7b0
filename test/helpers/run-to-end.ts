import { spawn, type SpawnOptions } from 'node:child_process';

export interface Ended { readonly code: number | null; readonly stdout: string; readonly stderr: string }

/**
 * Runs a program to its end without holding up the tests' event loop (other tests, and local fake endpoints of this
 * process, go on beside it); killed after `timeoutMs`, which then ends with code null.
 */
export function runToEnd(program: string, args: readonly string[], options: SpawnOptions, timeoutMs: number): Promise<Ended> {
  return new Promise((done) => {
    const child = spawn(program, args, { ...options, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => { clearTimeout(timer); done({ code, stdout, stderr }); });
  });
}
