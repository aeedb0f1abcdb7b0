import { parseArgs } from 'node:util';

/**
 * One way for every `npm run` command to read its arguments (Node's built-in `util.parseArgs`, strict) and one
 * shape for its `--help`. Every command also takes `-c key=value` (the settings, exactly as `cdk synth` reads
 * them) and `-h/--help`.
 */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  /** The value's placeholder in the help, e.g. `N` or `DATE`. */
  readonly value?: string;
  readonly help: string;
}

export interface PositionalSpec {
  readonly name: string;
  readonly help: string;
  readonly required?: boolean;
}

export interface CommandSpec {
  /** What the user types, e.g. `npm run status --`. */
  readonly invocation: string;
  readonly summary: string;
  readonly positionals?: readonly PositionalSpec[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  readonly exitCodes?: ReadonlyArray<readonly [number, string]>;
  /** Lines shown after the options, e.g. examples. */
  readonly notes?: readonly string[];
  /** False for a command that reads no settings (no `-c key=value`): report, sample, generate, golden, build:lib. */
  readonly settings?: false;
}

export type OptionValues = Readonly<Record<string, string | boolean | string[] | undefined>>;

export interface ParsedCommandLine {
  readonly values: OptionValues;
  readonly positionals: readonly string[];
  /** `-c key=value` pairs, later ones winning, values kept as strings (the config parser coerces them). */
  readonly context: Readonly<Record<string, string>>;
  /** The `-c` arguments as given, to repeat them in a command we print for the user. */
  readonly contextArgs: readonly string[];
}

export type CommandLineOutcome =
  | { readonly kind: 'run'; readonly parsed: ParsedCommandLine }
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'error'; readonly message: string };

/** Options every command has (`--context` only those that read the settings). */
export const COMMON_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  context: {
    type: 'string', short: 'c', multiple: true, value: 'key=value',
    help: 'a setting, as for `cdk synth` (repeatable; `-c config=cluster.yaml` reads a YAML file)',
  },
  help: { type: 'boolean', short: 'h', help: 'show this help and exit' },
};

function optionsOf(spec: CommandSpec): Readonly<Record<string, OptionSpec>> {
  const { context, help } = COMMON_OPTIONS;
  return { ...spec.options, ...(spec.settings === false ? {} : { context }), help };
}

export function parseCommandLine(spec: CommandSpec, argv: readonly string[]): CommandLineOutcome {
  const options = optionsOf(spec);
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...argv],
      // parseArgs rejects keys that are present but undefined.
      options: Object.fromEntries(Object.entries(options).map(([name, o]) =>
        [name, { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) }])),
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    if (!String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS')) throw error;
    return { kind: 'error', message: `${explainParseError(error, options)} (see ${spec.invocation} --help)` };
  }
  if (parsed.values.help === true) return { kind: 'help', text: formatHelp(spec) };

  const allowed = spec.positionals ?? [];
  if (parsed.positionals.length > allowed.length) {
    const extra = parsed.positionals[allowed.length];
    return { kind: 'error', message: `unexpected argument ${extra}: ${allowed.length === 0 ? 'this command takes no arguments' : `it takes ${allowed.map((p) => `<${p.name}>`).join(' ')}`} (see ${spec.invocation} --help)` };
  }
  const missing = allowed.slice(parsed.positionals.length).find((p) => p.required);
  if (missing) return { kind: 'error', message: `missing <${missing.name}>: ${missing.help} (see ${spec.invocation} --help)` };

  const contextArgs = (parsed.values.context as string[] | undefined) ?? [];
  const context: Record<string, string> = {};
  for (const pair of contextArgs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) return { kind: 'error', message: `context argument ${pair} must look like key=value (see ${spec.invocation} --help)` };
    context[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return { kind: 'run', parsed: { values: parsed.values as OptionValues, positionals: parsed.positionals, context, contextArgs } };
}

function explainParseError(error: unknown, options: Readonly<Record<string, OptionSpec>>): string {
  const e = error as { code?: string; message?: string };
  const quoted = /'([^']+)'/.exec(e.message ?? '')?.[1] ?? '';
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown argument ${quoted}: the options are ${Object.keys(options).map((n) => `--${n}`).join(', ')}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const flag = quoted.split(' ')[0].replace(/,$/, '');
      return /does not take/.test(e.message ?? '') ? `${flag} takes no value` : `${quoted.replace(/ <value>$/, '')} needs a value`;
    }
    default:
      return (e.message ?? String(error)).split('\n')[0];
  }
}

/** The one help shape: usage line, summary, arguments, options, exit codes, notes. */
export function formatHelp(spec: CommandSpec): string {
  const options = optionsOf(spec);
  const positionals = spec.positionals ?? [];
  const usageArgs = positionals.map((p) => (p.required ? `<${p.name}>` : `[<${p.name}>]`));
  const lines = [`usage: ${[spec.invocation, ...usageArgs, '[options]'].join(' ')}`, '', ...wrap(spec.summary, 100)];
  const column = (left: string, right: string) => `  ${left.padEnd(28)} ${right}`;
  if (positionals.length > 0) {
    lines.push('', 'arguments:');
    for (const p of positionals) lines.push(column(`<${p.name}>`, p.help));
  }
  lines.push('', 'options:');
  for (const [name, o] of Object.entries(options)) {
    const flag = `${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
    lines.push(column(flag, o.help));
  }
  const exitCodes = spec.exitCodes ?? DEFAULT_EXIT_CODES;
  lines.push('', 'exit codes:');
  for (const [code, meaning] of exitCodes) lines.push(column(String(code), meaning));
  if (spec.notes && spec.notes.length > 0) lines.push('', ...spec.notes);
  return lines.join('\n');
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  return line ? [...lines, line] : lines;
}

export const DEFAULT_EXIT_CODES: ReadonlyArray<readonly [number, string]> = [
  [0, 'done'],
  [1, 'failed: AWS refused, the stack or a resource is missing, or the operation failed (one line says why)'],
  [2, 'bad arguments or settings (one `error:` line each; AWS is not called)'],
];

/** The operation could not be done; the message is the one line the user reads (exit code 1). */
export class CommandFailure extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'CommandFailure';
  }
}

/** The exit code of every command for bad arguments (and, where it reads them, bad settings). */
export const EXIT_USAGE = 2;

/** A user mistake in the arguments: printed as one `error:` line, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A positive whole number from an option, or a UsageError naming the option, the value and what is allowed. */
export function wholeNumberOption(name: string, raw: unknown, min: number, max: number): number {
  const text = String(raw);
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new UsageError(`invalid option --${name}=${text}: must be a whole number from ${min} to ${max}`);
  }
  return value;
}

/** Seconds from an option (decimals allowed, for tests' fast intervals). */
export function secondsOption(name: string, raw: unknown, min: number, max: number): number {
  const text = String(raw);
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(`invalid option --${name}=${text}: must be a number of seconds from ${min} to ${max}`);
  }
  return value;
}

/** `2026-12-01` (midnight UTC) or a full ISO 8601 time such as `2026-12-01T11:30Z`. */
export function dateOption(name: string, raw: unknown): Date {
  const text = String(raw);
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text;
  const date = new Date(iso);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(date.getTime())) {
    throw new UsageError(`invalid option --${name}=${text}: must be a date (2026-12-01, UTC) or an ISO 8601 time (2026-12-01T11:30Z)`);
  }
  return date;
}

/**
 * The frame of a command that reads no settings and calls no AWS (report, sample, generate, golden, build:lib,
 * bench:synth): the same help, the same one `error:` line and exit code 2 for bad arguments as the AWS commands
 * (lib/cli/command.ts), a CommandFailure's own line and code for a failure.
 */
export async function runLocalCommand(spec: CommandSpec,
  io: { readonly argv: readonly string[]; readonly out: (line: string) => void; readonly err: (line: string) => void },
  body: (args: ParsedCommandLine) => number | Promise<number>): Promise<number> {
  const outcome = parseCommandLine(spec, io.argv);
  if (outcome.kind === 'help') {
    for (const line of outcome.text.split('\n')) io.out(line);
    return 0;
  }
  if (outcome.kind === 'error') {
    io.err(`error: ${outcome.message}`);
    return EXIT_USAGE;
  }
  try {
    return await body(outcome.parsed);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`error: ${error.message}`);
      return EXIT_USAGE;
    }
    if (error instanceof CommandFailure) {
      io.err(`error: ${error.message}`);
      return error.exitCode;
    }
    throw error;
  }
}
