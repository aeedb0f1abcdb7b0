/**
 * The test command's reporter (scripts/test.sh): a line per test file as it finishes, every failure in full (with
 * the output of the file it failed in), and a summary. Many tests run commands that are meant to fail and print
 * what they print on purpose (cdk-nag's errors, a node script's FAILURE lines); that output is kept with the
 * assertion that reads it, and reaches the terminal only when the file it came from fails. The complete TAP stream
 * goes to a file as well (scripts/test.sh names it), for whoever wants every line.
 */
import { basename, relative } from 'node:path';

interface Failure { path: string[]; error: unknown; location: string }
interface FileState {
  output: string[];
  failures: Failure[];
  names: string[];
  counts: Record<string, number> | undefined;
  ms: number;
  done: boolean;
  failed: boolean;
}
/** What Node 22's runner events carry, as far as this reporter reads them (test:summary is not in @types/node 20). */
interface EventData {
  file?: string;
  name: string;
  nesting: number;
  line?: number;
  column?: number;
  message: string;
  counts?: Record<string, number>;
  duration_ms: number;
  details?: { type?: string; duration_ms?: number; passed?: boolean; error?: unknown };
}
interface RunnerError { failureType?: string; message?: string; cause?: unknown }

/** Lines of a failing file's own output shown under its failures: its last ones, where the error usually is. */
const OUTPUT_LINES = 200;
const SLOWEST_SHOWN = 5;

function fileKey(file: string | undefined): string {
  return file ? relative(process.cwd(), file) : '(no file)';
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** The error a failed test carries: the runner wraps the thrown one (its `cause`). */
function describeError(error: unknown): string {
  if (!error) return 'failed (no error given)';
  const wrapped = error as RunnerError;
  if (wrapped.failureType === 'testTimeoutFailure' || wrapped.failureType === 'cancelledByParent') {
    return `${wrapped.failureType}: ${wrapped.message}`;
  }
  const inner = (wrapped.cause && typeof wrapped.cause === 'object' ? wrapped.cause : wrapped) as { stack?: string; name?: string; message?: string };
  return withoutRunnerFrames(inner.stack ?? `${inner.name ?? 'Error'}: ${inner.message ?? 'unknown'}`);
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

/** The stack without the test runner's own frames, which say nothing about the failure. */
function withoutRunnerFrames(text: string): string {
  return String(text).split('\n').filter((l) => !/^\s+at .*\((node:|file:\/\/\/.*\/node_modules\/)|^\s+at (async )?(Promise\.all|node:)/.test(l)).join('\n');
}

function indent(text: string, by = '    '): string {
  return String(text).replace(/\n$/, '').split('\n').map((l) => by + l).join('\n');
}

export default async function* quietReporter(source: AsyncIterable<{ type: string; data: EventData }>): AsyncGenerator<string> {
  const files = new Map<string, FileState>();
  const fileState = (file: string | undefined): FileState => {
    const key = fileKey(file);
    if (!files.has(key)) files.set(key, { output: [], failures: [], names: [], counts: undefined, ms: 0, done: false, failed: false });
    return files.get(key)!;
  };
  /** A file's line when it ends, and its failures in full with its output. Each file ends once. */
  function* finish(file: string, ms: number, passed: boolean, error: unknown): Generator<string> {
    const key = fileKey(file);
    const state = fileState(file);
    if (state.done) return;
    state.ms = ms;
    state.done = true;
    const n = state.counts?.tests;
    state.failed = state.failures.length > 0 || !passed;
    const failed = state.failed;
    // A file that fails outside any test (it did not load, it exited early) has only its own result to show.
    if (failed && state.failures.length === 0) state.failures.push({ path: [], error, location: key });
    yield `${failed ? 'FAIL' : 'ok  '} ${seconds(state.ms).padStart(7)}  ${key}${n === undefined ? '' : ` (${plural(n, 'test')})`}\n`;
    if (failed) {
      for (const f of state.failures) {
        yield `\n  not ok ${f.path.length ? f.path.join(' › ') : '(the file itself)'}\n    at ${f.location}\n${indent(describeError(f.error))}\n`;
      }
      const lines = state.output.join('').split('\n');
      if (lines.join('').trim() !== '') {
        const shown = lines.slice(-OUTPUT_LINES);
        yield `\n  output of ${key}${shown.length < lines.length ? ` (its last ${OUTPUT_LINES} lines)` : ''}:\n${indent(shown.join('\n'))}\n\n`;
      }
    }
    state.output = [];
  }
  let summary: { duration_ms: number } | undefined;
  const started = Date.now();
  for await (const { type, data } of source) {
    switch (type) {
      case 'test:start':
        if (data.file) fileState(data.file).names[data.nesting] = data.name;
        break;
      case 'test:stdout':
      case 'test:stderr':
        fileState(data.file).output.push(data.message);
        break;
      case 'test:pass':
      case 'test:fail': {
        const state = fileState(data.file);
        const wrapper = Boolean(data.nesting === 0 && data.file && data.name === basename(data.file));
        if (wrapper) {
          // Node 22 wraps a file in a test of its own only when the file ends outside its tests (it did not load, it
          // exited early): that test's end is the file's end, and its own output says why.
          const error = type === 'test:fail' ? data.details?.error : undefined;
          yield* finish(data.file!, data.details?.duration_ms ?? 0, type === 'test:pass', error);
          break;
        }
        if (type === 'test:pass') break;
        // A suite fails because a test in it did: that is reported once, as the test.
        if (data.details?.type === 'suite' && (data.details.error as RunnerError | undefined)?.failureType === 'subtestsFailed') break;
        const path = [...state.names.slice(0, data.nesting), data.name];
        state.failures.push({ path, error: data.details?.error, location: data.line ? `${fileKey(data.file)}:${data.line}:${data.column}` : fileKey(data.file) });
        break;
      }
      case 'test:summary':
        if (!data.file) { summary = data; break; }
        fileState(data.file).counts = data.counts;
        // A file that ran its tests ends with its own summary (its test:complete events come in completion order,
        // not after it).
        yield* finish(data.file, data.duration_ms, (data as { success?: boolean }).success !== false, undefined);
        break;
      default:
        break;
    }
  }
  for (const [key, state] of files) if (!state.done && key !== '(no file)') yield* finish(key, 0, true, undefined);
  const all = [...files.entries()].filter(([, s]) => s.done);
  // The files' own counts: the runner's total also counts each failed file as a test.
  const sum = (k: string) => all.reduce((t, [, s]) => t + (s.counts?.[k] ?? 0), 0);
  const failedFiles = all.filter(([, s]) => s.failed);
  const unloaded = all.filter(([, s]) => s.counts === undefined).length;
  const wall = summary?.duration_ms ?? Date.now() - started;
  yield '\n';
  yield `${plural(sum('tests'), 'test')} in ${plural(all.length, 'file')}: ${sum('passed')} passed, ${sum('failed')} failed` +
    ([['cancelled', sum('cancelled')], ['skipped', sum('skipped')], ['todo', sum('todo')], ['', unloaded]] as Array<[string, number]>)
      .filter(([, n]) => n > 0).map(([what, n]) => (what ? `, ${n} ${what}` : `, ${plural(n, 'file')} that ran no test`)).join('') + ` (${seconds(wall)})\n`;
  const slowest = [...all].sort((a, b) => b[1].ms - a[1].ms).slice(0, SLOWEST_SHOWN);
  if (slowest.length) yield `slowest files: ${slowest.map(([k, s]) => `${k} ${seconds(s.ms)}`).join(', ')}\n`;
  if (failedFiles.length) yield `failed in: ${failedFiles.map(([k]) => k).join(', ')}\n`;
}
