
/**
 * What went wrong talking to AWS, in the user's terms. `credentials` and `network` make every other answer
 * meaningless, so the runner reports them once and stops; `denied` is specific to one API call.
 */
export type AwsErrorKind = 'credentials' | 'network' | 'denied' | 'other';

export interface ClassifiedAwsError {
  readonly kind: AwsErrorKind;
  readonly code: string;
  readonly message: string;
}

const CREDENTIAL_CODES = new Set([
  'CredentialsProviderError', 'AuthFailure', 'UnrecognizedClientException', 'InvalidClientTokenId',
  'ExpiredToken', 'ExpiredTokenException', 'RequestExpired', 'SignatureDoesNotMatch', 'InvalidSignatureException',
]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH',
  'TimeoutError', 'RequestTimeout', 'EPIPE',
]);
const DENIED_CODES = new Set(['UnauthorizedOperation', 'AccessDeniedException', 'AccessDenied', 'OptInRequired']);

export function classifyAwsError(error: unknown): ClassifiedAwsError {
  const code = errorName(error);
  const message = firstLine(error instanceof Error ? error.message : String(error));
  const lowLevel = lowLevelCode(error);
  if (CREDENTIAL_CODES.has(code) || /could not load credentials/i.test(message)) return { kind: 'credentials', code, message };
  if (NETWORK_CODES.has(code) || (lowLevel !== undefined && NETWORK_CODES.has(lowLevel))) {
    return { kind: 'network', code: lowLevel ?? code, message };
  }
  if (DENIED_CODES.has(code)) return { kind: 'denied', code, message };
  return { kind: 'other', code, message };
}

/** Node puts ECONNREFUSED and friends on `code`, sometimes on a nested `cause` or inside an AggregateError. */
function lowLevelCode(error: unknown, depth = 0): string | undefined {
  if (!error || typeof error !== 'object' || depth > 3) return undefined;
  const e = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return e.code;
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const found = lowLevelCode(inner, depth + 1);
      if (found) return found;
    }
  }
  return lowLevelCode(e.cause, depth + 1);
}

function firstLine(text: string): string {
  const line = text.split('\n')[0].trim();
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

/** The AWS error code of an SDK error (`Code`, else `name`, else `code`), or `Error`. */
export function errorName(error: unknown): string {
  if (error && typeof error === 'object') {
    const e = error as { name?: unknown; Code?: unknown; code?: unknown };
    for (const candidate of [e.Code, e.name, e.code]) {
      if (typeof candidate === 'string' && candidate !== 'Error') return candidate;
    }
  }
  return 'Error';
}
