/**
 * A user's mistake in the configuration. `bin/app.ts` prints each message as one line and exits non-zero, with no
 * stack trace: every message names the setting, the value given and what is allowed.
 */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

export function invalid(key: string, value: unknown, allowed: string): string {
  return `invalid setting ${key}=${formatValue(value)}: ${allowed}`;
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return value === '' ? '""' : value;
  return JSON.stringify(value);
}
