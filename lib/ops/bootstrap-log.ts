/**
 * The grammar of the bootstrap log in CloudWatch Logs, as lib/bootstrap/scripts/lib.sh (`say`, `signal`, `fail`,
 * `wait_for`) and bootstrap-node.sh (the step loop, the final line) write it. One log event per line:
 *
 *   message    := "[bootstrap " role " " index "] " body
 *   body       := step | ready | failed | signal | unreached | detail
 *   step       := "step " n "/" total ": " name " (" elapsed "s)"      elapsed: seconds since the bootstrap began
 *   ready      := "ready after " seconds "s: " summary
 *   failed     := "FAILED: " reason                                   a check's verdict
 *   signal     := "signalling " ("SUCCESS" | "FAILURE") " to CloudFormation: " reason
 *   unreached  := "could not reach the CloudFormation signal URL" …
 *   detail     := "  " text                                           facts and "  waiting for … (Ns of at most Ms)…"
 *
 *   stream     := role "-" index "/" instance-id                      e.g. gpu-1/i-0123456789abcdef0, head-0/i-…
 *
 * role is `gpu` or `head`; the event timestamp is the node's clock when the line was said. Any other body is kept
 * as an `other` line (shown in logs, ignored for progress). test/ops/bootstrap-log.test.ts runs the real rendered
 * bootstrap and parses what it sent, so a change of format fails there first.
 */

export type BootstrapLine =
  | { readonly kind: 'step'; readonly number: number; readonly total: number; readonly name: string; readonly elapsedS: number }
  | { readonly kind: 'ready'; readonly afterS: number; readonly summary: string }
  | { readonly kind: 'failed'; readonly reason: string }
  | { readonly kind: 'signal'; readonly status: 'SUCCESS' | 'FAILURE'; readonly reason: string }
  | { readonly kind: 'unreached'; readonly text: string }
  | { readonly kind: 'detail'; readonly text: string }
  | { readonly kind: 'other'; readonly text: string };

export interface ParsedMessage {
  readonly role: string;
  readonly index: number;
  readonly line: BootstrapLine;
}

const PREFIX = /^\[bootstrap (\w+) (\d+)\] (.*)$/s;
const STEP = /^step (\d+)\/(\d+): (.*) \((\d+)s\)$/s;
const READY = /^ready after (\d+)s: (.*)$/s;
const FAILED = /^FAILED: (.*)$/s;
const SIGNAL = /^signalling (SUCCESS|FAILURE) to CloudFormation: (.*)$/s;

export function parseBootstrapMessage(message: string): ParsedMessage | undefined {
  const m = PREFIX.exec(message.replace(/\n$/, ''));
  if (!m) return undefined;
  const [, role, index, body] = m;
  return { role, index: Number(index), line: parseBody(body) };
}

function parseBody(body: string): BootstrapLine {
  let m = STEP.exec(body);
  if (m) return { kind: 'step', number: Number(m[1]), total: Number(m[2]), name: m[3], elapsedS: Number(m[4]) };
  if ((m = READY.exec(body))) return { kind: 'ready', afterS: Number(m[1]), summary: m[2] };
  if ((m = FAILED.exec(body))) return { kind: 'failed', reason: m[1] };
  if ((m = SIGNAL.exec(body))) return { kind: 'signal', status: m[1] as 'SUCCESS' | 'FAILURE', reason: m[2] };
  if (body.startsWith('could not reach the CloudFormation signal URL')) return { kind: 'unreached', text: body };
  if (body.startsWith('  ')) return { kind: 'detail', text: body.trim() };
  return { kind: 'other', text: body };
}

export interface StreamName {
  readonly role: string;
  readonly index: number;
  readonly instanceId: string;
  /** `gpu-<i>` or `head`: what the commands call the node. */
  readonly node: string;
}

export function parseStreamName(name: string): StreamName | undefined {
  const m = /^(\w+)-(\d+)\/(.+)$/.exec(name);
  if (!m) return undefined;
  const [, role, index, instanceId] = m;
  return { role, index: Number(index), instanceId, node: nodeName(role, Number(index)) };
}

/** The head's stream is `head-0`; users call it `head`. */
export function nodeName(role: string, index: number): string {
  return role === 'head' ? 'head' : `${role}-${index}`;
}

export interface LogEvent {
  readonly timestamp: number;
  readonly message: string;
}

export interface StepProgress {
  readonly number: number;
  readonly total: number;
  readonly name: string;
  /** Seconds since the bootstrap began when the step started (the node's own count). */
  readonly startedAtS: number;
  /** When the step's line was logged (the node's clock). */
  readonly loggedAt: number;
  /** How long it took, once a later step (or the end) is known. */
  readonly durationS?: number;
}

export type BootstrapOutcome =
  | { readonly kind: 'ready'; readonly afterS: number; readonly summary: string; readonly at: number }
  | { readonly kind: 'failed'; readonly reason: string; readonly at: number };

export interface BootstrapProgress {
  readonly steps: readonly StepProgress[];
  /** The step running now: the last one started, unless the bootstrap has ended. */
  readonly current?: StepProgress;
  readonly outcome?: BootstrapOutcome;
  /** The signal sent to CloudFormation, if any, and whether sending it failed. */
  readonly signal?: { readonly status: 'SUCCESS' | 'FAILURE'; readonly reason: string; readonly unreached: boolean };
  /** The latest `waiting for …` progress note of the current step. */
  readonly waiting?: string;
}

/**
 * Folds one node's events (oldest first) into its progress: the steps with their durations, the running step,
 * and how it ended. A FAILURE signal is the end even without a FAILED line (an unexpected error reports only the
 * signal); its reason is what CloudFormation shows.
 */
export function summarizeBootstrap(events: readonly LogEvent[]): BootstrapProgress {
  const steps: Array<{ -readonly [K in keyof StepProgress]: StepProgress[K] }> = [];
  let outcome: BootstrapOutcome | undefined;
  let signal: { status: 'SUCCESS' | 'FAILURE'; reason: string; unreached: boolean } | undefined;
  let waiting: string | undefined;
  for (const event of events) {
    const parsed = parseBootstrapMessage(event.message);
    if (!parsed) continue;
    const line = parsed.line;
    switch (line.kind) {
      case 'step': {
        const previous = steps.at(-1);
        if (previous && previous.durationS === undefined) previous.durationS = line.elapsedS - previous.startedAtS;
        steps.push({ number: line.number, total: line.total, name: line.name, startedAtS: line.elapsedS, loggedAt: event.timestamp });
        waiting = undefined;
        break;
      }
      case 'ready': {
        const last = steps.at(-1);
        if (last && last.durationS === undefined) last.durationS = line.afterS - last.startedAtS;
        outcome = { kind: 'ready', afterS: line.afterS, summary: line.summary, at: event.timestamp };
        break;
      }
      case 'failed':
        outcome ??= { kind: 'failed', reason: line.reason, at: event.timestamp };
        break;
      case 'signal':
        signal = { status: line.status, reason: line.reason, unreached: false };
        if (line.status === 'FAILURE') {
          // The signal's reason names the step ("step 4/11 (…): …"): it is what the stack events will show.
          outcome = { kind: 'failed', reason: line.reason, at: event.timestamp };
        }
        break;
      case 'unreached':
        if (signal) signal.unreached = true;
        break;
      case 'detail':
        if (line.text.startsWith('waiting for ')) waiting = line.text;
        break;
      default:
        break;
    }
  }
  const last = steps.at(-1);
  if (outcome?.kind === 'failed' && last && last.durationS === undefined) {
    last.durationS = Math.max(0, Math.round((outcome.at - last.loggedAt) / 1000));
  }
  return { steps, current: outcome ? undefined : last, outcome, signal, waiting: outcome ? undefined : waiting };
}

/** A log line for people: `gpu-1 12:03:04 step 4/11: …`, without the `[bootstrap …]` prefix. */
export function displayLine(node: string, event: LogEvent): string {
  const parsed = parseBootstrapMessage(event.message);
  const body = parsed ? event.message.replace(/^\[bootstrap \w+ \d+\] /, '') : event.message;
  return `${node.padEnd(6)} ${new Date(event.timestamp).toISOString().slice(11, 19)}  ${body.replace(/\n$/, '')}`;
}
