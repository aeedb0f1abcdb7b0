import { format } from 'node:util';

/**
 * Runs `fn` with console output collected instead of printed; when `fn` throws, what it printed is added to the
 * error's message, where a failing test shows it.
 */
export function capturingConsole<T>(fn: () => T): { result: T; output: string } {
  const lines: string[] = [];
  const saved = { log: console.log, info: console.info, warn: console.warn, error: console.error };
  const collect = (...args: unknown[]) => { lines.push(format(...args)); };
  Object.assign(console, { log: collect, info: collect, warn: collect, error: collect });
  try {
    return { result: fn(), output: lines.join('\n') };
  } catch (error) {
    if (error instanceof Error && lines.length > 0) error.message += `\n${lines.join('\n')}`;
    throw error;
  } finally {
    Object.assign(console, saved);
  }
}
