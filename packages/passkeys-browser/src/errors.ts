/**
 * Error vocabulary of the public passkey browser SDK (0.3.x), kept identical so code written
 * against it keeps working. What each code means here:
 *
 * - `webauthn_unavailable`: the browser has no WebAuthn (`window.PublicKeyCredential` missing).
 * - `api_unsupported_in_browser`: WebAuthn exists but not the feature asked for (autofill /
 *   conditional get, or conditional create for `upgradeToPasskey`).
 * - `timeout`: the API call did not answer in time (5 s).
 * - `network_error`: the API could not be reached (DNS, connection refused, CORS refusal).
 * - `bad_request`: the API answered 4xx (bad key, origin not allowed, invalid input, 429…);
 *   `more` carries `{ status, errors }` with the API's `{code, message}` errors.
 * - `server_error`: the API answered 5xx; `more` as for `bad_request`.
 * - `canceled_by_user`: the user dismissed the browser's prompt, the ceremony timed out, or a
 *   newer ceremony replaced it (browsers report all three as `NotAllowedError`/`AbortError`).
 * - `invalid_domain`: the page's domain does not match the relying party id (`SecurityError`).
 * - `browser_bug?`: the browser returned something that is not a public-key credential.
 * - `unexpected`: anything else; `more` carries the error's name and message.
 */
export type ErrorCode =
  | "webauthn_unavailable"
  | "timeout"
  | "network_error"
  | "bad_request"
  | "server_error"
  | "canceled_by_user"
  | "invalid_domain"
  | "browser_bug?"
  | "api_unsupported_in_browser"
  | "unexpected";

/** Every SDK call resolves (never rejects) to one of these. */
export type Result<T, E = ErrorCode> = { ok: true; data: T } | { ok: false; error: E; more?: unknown };

/** Details of a thrown error, safe to log or show (no credential material). */
export interface ErrorDetails {
  name: string;
  message: string;
  /** @simplewebauthn/browser's finer-grained code, e.g. `ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED`. */
  code?: string;
}

function detailsOf(error: unknown): ErrorDetails {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, ...(typeof code === "string" ? { code } : {}) };
  }
  return { name: "Unknown", message: String(error) };
}

function fail<T>(error: ErrorCode, thrown: unknown): Result<T> {
  return { ok: false, error, more: detailsOf(thrown) };
}

/**
 * Maps what `navigator.credentials.create/get` (through @simplewebauthn/browser, which keeps the
 * DOMException's name) threw to the vocabulary. Browsers deliberately do not tell a cancel from a
 * timeout, so both are `canceled_by_user`.
 */
export function credentialsError<T>(error: unknown): Result<T> {
  const name = error instanceof Error ? error.name : "";
  if (name === "SecurityError") return fail("invalid_domain", error);
  if (name === "AbortError" || name === "NotAllowedError") return fail("canceled_by_user", error);
  if (name === "TypeError") return fail("browser_bug?", error);
  return fail("unexpected", error);
}

/** Maps a failed `fetch` (no HTTP answer at all). */
export function networkError<T>(error: unknown): Result<T> {
  const name = error instanceof Error ? error.name : "";
  if (name === "TimeoutError" || name === "AbortError") return fail("timeout", error);
  return fail("network_error", error);
}

export function unexpected<T>(error: unknown): Result<T> {
  return fail("unexpected", error);
}
