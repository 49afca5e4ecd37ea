import { networkError, type Result, unexpected } from "./errors.js";
import { SDK_VERSION } from "./version.js";

/** An error entry of the API's wrapped format (`{ result, errors: [{code, message}] }`). */
export interface ApiError {
  code: string;
  message: string;
}

/** `more` of a `bad_request` / `server_error` result. */
export interface HttpFailure {
  status: number;
  statusText: string;
  /** The API's errors, when the answer was the wrapped JSON format. */
  errors: ApiError[];
}

export interface ClientApiOptions {
  publishableKey: string;
  baseUrl: string;
  /** Per-call timeout; the public SDK uses 5 s. */
  timeoutMs: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function apiErrorsOf(body: unknown): ApiError[] {
  if (!isRecord(body) || !Array.isArray(body.errors)) return [];
  return body.errors.filter(isRecord).map((e) => ({ code: String(e.code ?? ""), message: String(e.message ?? "") }));
}

async function readJson(response: Response): Promise<unknown> {
  try {
    return await response.json();
  } catch {
    return undefined;
  }
}

/**
 * One client-API call exactly as the public SDK makes it: `POST baseUrl + path`, JSON both ways,
 * `Authorization: Basic base64(publishableKey + ":")` (publishable key as the user name, blank
 * password), `X-SDK: js/<version>`. Answers the unwrapped `result`; never throws.
 */
export async function callClientApi<T>(opts: ClientApiOptions, path: string, body: unknown): Promise<Result<T>> {
  let response: Response;
  try {
    response = await fetch(opts.baseUrl + path, {
      method: "POST",
      headers: {
        Accept: "application/json",
        "Content-Type": "application/json",
        Authorization: `Basic ${btoa(`${opts.publishableKey}:`)}`,
        "X-SDK": `js/${SDK_VERSION}`,
      },
      body: JSON.stringify(body),
      // Not sent cross-site: the key, not cookies, authenticates the client API.
      credentials: "omit",
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
  } catch (error) {
    return networkError(error);
  }
  const parsed = await readJson(response);
  if (!response.ok) {
    const more: HttpFailure = { status: response.status, statusText: response.statusText, errors: apiErrorsOf(parsed) };
    return { ok: false, error: response.status >= 500 ? "server_error" : "bad_request", more };
  }
  if (!isRecord(parsed) || !isRecord(parsed.result)) {
    return unexpected(new TypeError(`${path} answered ${response.status} without a JSON result`));
  }
  return { ok: true, data: parsed.result as T };
}
