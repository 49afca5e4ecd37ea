/** One entry of a `validation_error` answer's `issues`. */
export interface ValidationIssue {
  path: Array<string | number>;
  message: string;
  code?: string;
}

/**
 * Codes the SDK itself gives when there is no usable API answer. Every other `code` is the API's
 * own `error` string, verbatim: `otp_invalid`, `otp_expired`, `validation_error`,
 * `Authentication required`, `session_revoked`, `rate_limited`, …
 */
export type ClientErrorCode =
  /** The API could not be reached (DNS, connection refused, CORS refusal, offline). */
  | "network_error"
  /** The API did not answer within `timeoutMs`. */
  | "timeout"
  /** The API answered, but not in the seed-000 JSON format (e.g. an HTML error page of a proxy). */
  | "invalid_response"
  /** The call needs a session and there is none (never signed in, logged out, or the session ended). */
  | "not_signed_in";

/**
 * Every failure of the SDK. `status` is the HTTP status (0 when there was no answer); `code` is
 * the API's `error` (seed 000 `{"error", "message"?}`) or a {@link ClientErrorCode}.
 */
export class FanfareError extends Error {
  override readonly name = "FanfareError";
  readonly status: number;
  readonly code: string;
  /** Seconds to wait before retrying (429 and 503: `Retry-After` header or the body's `retryAfter`). */
  readonly retryAfter?: number;
  /** Field problems of a `validation_error` (400). */
  readonly issues?: ValidationIssue[];
  /** The parsed JSON body of the answer, when there was one. */
  readonly body?: unknown;

  constructor(init: { status: number; code: string; message?: string; retryAfter?: number; issues?: ValidationIssue[]; body?: unknown }) {
    super(init.message ?? init.code);
    this.status = init.status;
    this.code = init.code;
    if (init.retryAfter !== undefined) this.retryAfter = init.retryAfter;
    if (init.issues !== undefined) this.issues = init.issues;
    if (init.body !== undefined) this.body = init.body;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function issuesOf(body: Record<string, unknown>): ValidationIssue[] | undefined {
  if (!Array.isArray(body.issues)) return undefined;
  return body.issues.filter(isRecord).map((i) => ({
    path: Array.isArray(i.path) ? i.path.filter((p): p is string | number => typeof p === "string" || typeof p === "number") : [],
    message: typeof i.message === "string" ? i.message : "",
    ...(typeof i.code === "string" ? { code: i.code } : {}),
  }));
}

/** `Retry-After` in seconds (delta form; an HTTP date is converted), else the body's `retryAfter`. */
function retryAfterOf(response: Response, body: Record<string, unknown> | undefined): number | undefined {
  const header = response.headers.get("retry-after");
  if (header) {
    const seconds = Number(header);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds;
    const date = Date.parse(header);
    if (Number.isFinite(date)) return Math.max(0, Math.ceil((date - Date.now()) / 1000));
  }
  const inBody = body?.retryAfter;
  return typeof inBody === "number" && Number.isFinite(inBody) && inBody >= 0 ? inBody : undefined;
}

/**
 * The error of a non-2xx answer, read in seed 000's format: `{"error": "otp_invalid", "message":
 * "Invalid verification code. Please try again."}`, `{"error": "Authentication required"}` (a
 * sentence as the code: `message` then repeats it), `{"error": "validation_error", "issues": […]}`,
 * `{"error": "rate_limited", "retryAfter": 12}`. Anything else is `invalid_response`.
 */
export async function errorFromResponse(response: Response): Promise<FanfareError> {
  const text = await response.text().catch(() => "");
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (isRecord(parsed) && typeof parsed.error === "string" && parsed.error !== "") {
    const issues = issuesOf(parsed);
    const retryAfter = retryAfterOf(response, parsed);
    return new FanfareError({
      status: response.status,
      code: parsed.error,
      message: typeof parsed.message === "string" && parsed.message !== "" ? parsed.message : parsed.error,
      body: parsed,
      ...(issues ? { issues } : {}),
      ...(retryAfter !== undefined ? { retryAfter } : {}),
    });
  }
  const retryAfter = retryAfterOf(response, undefined);
  return new FanfareError({
    status: response.status,
    code: "invalid_response",
    message: `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""} without a JSON error body`,
    ...(parsed !== undefined ? { body: parsed } : {}),
    ...(retryAfter !== undefined ? { retryAfter } : {}),
  });
}

/** A `fetch` that threw (no HTTP answer): `timeout` for an abort by our timer, else `network_error`. */
export function errorFromThrown(error: unknown, timedOut = false): FanfareError {
  // Duck-typed: DOMException is not an Error subclass in every realm.
  const name = isRecord(error) && typeof error.name === "string" ? error.name : "";
  const detail = isRecord(error) && typeof error.message === "string" ? error.message : String(error);
  if (timedOut || name === "TimeoutError")
    return new FanfareError({ status: 0, code: "timeout", message: `The API did not answer in time (${detail})` });
  return new FanfareError({ status: 0, code: "network_error", message: `The API could not be reached (${detail})` });
}
