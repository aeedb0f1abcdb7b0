/** Shared text formatting of the operations commands: times in UTC to the minute, money, durations. */

/** `2026-11-24T12:00Z`: UTC, to the minute, as the preflight prints times. */
export function iso(date: Date): string {
  return date.toISOString().replace(/:\d\d\.\d{3}Z$/, 'Z');
}

/** `$1,234.56`; amounts under $1 keep three significant digits' worth of cents. */
export function money(usd: number): string {
  if (!Number.isFinite(usd)) return '$?';
  return `$${usd.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: usd < 1 ? 4 : 2 })}`;
}

/** `45s`, `4m 12s`, `2h 05m`. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Quotes an argument for a POSIX shell only when it needs it, so printed commands stay readable and exact. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
