import { PasskeyErrorCode } from "@authplane/contracts";

/** Which of the platform's APIs answered: each has its own error body. */
export type ApiFamily = "consumer" | "passkey" | "admin" | "operator";

export interface AuthplaneErrorInit {
  status: number;
  code: string;
  message: string;
  api: ApiFamily;
  /** The parsed error body, as the API sent it (never contains the request's credentials). */
  body?: unknown;
  requestId?: string | undefined;
  retryAfterSeconds?: number | undefined;
  cause?: unknown;
}

/**
 * Every failure of the client. `status` is the HTTP status (0 when no answer arrived), `code` the
 * API's own code: seed 000's `error` (`"Authentication required"`, `otp_invalid`, `key_not_found`, …)
 * or seed 003's `errors[0].code` (`EntityNotFound`, `TokenExpired`, …). Subclasses by status let a
 * caller `catch` a kind of failure without comparing numbers.
 */
export class AuthplaneError extends Error {
  readonly status: number;
  readonly code: string;
  readonly api: ApiFamily;
  readonly body: unknown;
  readonly requestId: string | undefined;
  /** From `Retry-After` on 429/503. */
  readonly retryAfterSeconds: number | undefined;

  constructor(init: AuthplaneErrorInit) {
    super(init.message, init.cause !== undefined ? { cause: init.cause } : undefined);
    this.name = new.target.name;
    this.status = init.status;
    this.code = init.code;
    this.api = init.api;
    this.body = init.body;
    this.requestId = init.requestId;
    this.retryAfterSeconds = init.retryAfterSeconds;
  }
}

/** 400 / 422: the request was refused as invalid (nothing changed). */
export class InvalidRequestError extends AuthplaneError {}
/** 401: missing, unknown, revoked or expired credentials (key, token, code). */
export class AuthenticationError extends AuthplaneError {}
/** 403: authenticated, but not allowed (a publishable key where a secret key is needed, an origin, a country…). */
export class PermissionError extends AuthplaneError {}
/** 404: no such organization, key, credential or token. */
export class NotFoundError extends AuthplaneError {}
/** 409: conflicts with the current state (a key already rotated, a username of another account…). */
export class ConflictError extends AuthplaneError {}
/** 429: a rate limit; `retryAfterSeconds` says when to try again. */
export class RateLimitError extends AuthplaneError {}
/** 502/503/504 or no answer at all: the platform (or the way to it) is unavailable; safe to retry idempotent calls. */
export class UnavailableError extends AuthplaneError {}
/** A 2xx whose body does not match the API contract (a proxy's page, a version mismatch). */
export class InvalidResponseError extends AuthplaneError {}

/** A passkey API error: `code` is one of seed 003's codes (or a newer one this client does not know). */
export interface PasskeyApiError extends AuthplaneError {
  readonly api: "passkey";
  readonly code: PasskeyErrorCode | (string & {});
}

export function isPasskeyError(err: unknown): err is PasskeyApiError {
  return err instanceof AuthplaneError && err.api === "passkey";
}

/** The passkey codes the contracts know (seed 003 + the SDKs' codes). */
export const PASSKEY_ERROR_CODES: readonly PasskeyErrorCode[] = PasskeyErrorCode.options;

function errorClassFor(status: number): typeof AuthplaneError {
  if (status === 400 || status === 422) return InvalidRequestError;
  if (status === 401) return AuthenticationError;
  if (status === 403) return PermissionError;
  if (status === 404) return NotFoundError;
  if (status === 409) return ConflictError;
  if (status === 429) return RateLimitError;
  if (status === 0 || status === 502 || status === 503 || status === 504) return UnavailableError;
  return AuthplaneError;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function retryAfter(headers: Headers): number | undefined {
  const raw = headers.get("retry-after");
  if (!raw) return undefined;
  const n = Number(raw);
  if (Number.isFinite(n) && n >= 0) return n;
  const at = Date.parse(raw);
  return Number.isFinite(at) ? Math.max(0, Math.ceil((at - Date.now()) / 1000)) : undefined;
}

/** The typed error of a non-2xx answer, read from the API family's own error body. */
export function errorFromResponse(api: ApiFamily, status: number, headers: Headers, body: unknown): AuthplaneError {
  let code = `http_${status}`;
  let message = `HTTP ${status}`;
  if (api === "passkey" && isRecord(body) && Array.isArray(body.errors) && isRecord(body.errors[0])) {
    const first = body.errors[0];
    if (typeof first.code === "string") code = first.code;
    if (typeof first.message === "string") message = first.message;
  } else if (isRecord(body) && typeof body.error === "string") {
    code = body.error;
    message = typeof body.message === "string" ? body.message : body.error;
  }
  const Kind = errorClassFor(status);
  return new Kind({
    status,
    code,
    message,
    api,
    body,
    requestId: headers.get("x-request-id") ?? undefined,
    retryAfterSeconds: retryAfter(headers),
  });
}
