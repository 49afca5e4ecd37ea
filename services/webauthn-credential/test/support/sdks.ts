import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Express } from "express";

/**
 * The public server SDKs' wire behaviour, reproduced from their source (not our code): the Node
 * SDK (0.3.x) posts JSON with `Authorization: Basic base64(":" + secretKey)` and returns
 * `{ ok: response.ok, ...body }`, so `response.errors` is whatever the API sent; its README says
 * to check `response.errors.length` even on success. The PHP SDK json_encode()s PHP arrays (a
 * missing handle is `null`) and builds its result objects from `$decoded['result']`.
 */
export interface SdkResponse {
  ok: boolean;
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: the JSON as the SDK hands it to its user
  result: any;
  errors: Array<{ code: string; message: string }>;
}

export class ListeningApp {
  private constructor(
    private readonly server: Server,
    readonly baseUrl: URL,
  ) {}

  static async start(app: Express): Promise<ListeningApp> {
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, "127.0.0.1", () => resolve(s));
    });
    const { port } = server.address() as AddressInfo;
    return new ListeningApp(server, new URL(`http://127.0.0.1:${port}`));
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function post(baseUrl: URL, path: string, authorization: string, body: unknown, sdk: string): Promise<SdkResponse> {
  const response = await fetch(new URL(path, baseUrl), {
    method: "POST",
    headers: {
      Authorization: authorization,
      Accept: "application/json",
      "Content-type": "application/json",
      "X-SDK": sdk,
    },
    body: JSON.stringify(body),
  });
  const data = (await response.json()) as Record<string, unknown>;
  return { ok: response.ok, status: response.status, ...data } as SdkResponse;
}

/** `new SnapAuth(secretKey, { host })` of the Node SDK. */
export function nodeSdk(baseUrl: URL, secretKey: string) {
  const auth = `Basic ${btoa(`:${secretKey}`)}`;
  return {
    /** `attachRegistration(token, user: { id: string, username: string | null })` posts to /credential/create. */
    attachRegistration: (token: string, user: { id: string; username: string | null }) =>
      post(baseUrl, "/credential/create", auth, { token, user }, "node/0.3.0"),
    verifyAuthToken: (token: string) => post(baseUrl, "/auth/verify", auth, { token }, "node/0.3.0"),
    /** Any other server API call, the same way. */
    call: (path: string, body: unknown) => post(baseUrl, path, auth, body, "node/0.3.0"),
  };
}

/** The PHP SDK's calls (`attachRegistration($token, ['id' => …, 'handle' => $user->username])`). */
export function phpSdk(baseUrl: URL, secretKey: string) {
  const auth = `Basic ${Buffer.from(`:${secretKey}`).toString("base64")}`;
  return {
    attachRegistration: (token: string, user: { id: string; handle: string | null }) =>
      post(baseUrl, "/registration/attach", auth, { token, user }, "php/0.3.0"),
    verifyAuthToken: (token: string) => post(baseUrl, "/auth/verify", auth, { token }, "php/0.3.0"),
  };
}

/** What the PHP SDK's `Client::makeApiCall` makes of an answer: its result, a CodedError, or a MalformedResponse. */
export type PhpSdkOutcome =
  | { result: Record<string, unknown> }
  | { codedError: { code: string; message: string; status: number } }
  | { malformed: string; status: number };

/**
 * The PHP SDK's reading of an answer: it must be JSON with a `result` key; `result: null` must come
 * with a non-empty `errors` list whose first entry has `code` and `message` (thrown as CodedError);
 * anything else throws MalformedResponse.
 */
export function readAsPhpSdk(status: number, text: string): PhpSdkOutcome {
  let decoded: unknown;
  try {
    decoded = JSON.parse(text);
  } catch {
    return { malformed: "Received non-JSON response", status };
  }
  if (!decoded || typeof decoded !== "object" || Array.isArray(decoded) || !("result" in decoded))
    return { malformed: "Received JSON in an unexpected format", status };
  const d = decoded as { result: unknown; errors?: unknown };
  if (d.result !== null) {
    if (status < 200 || status >= 300) return { malformed: "Got a result with a non-2xx response", status };
    return { result: d.result as Record<string, unknown> };
  }
  if (!Array.isArray(d.errors) || d.errors.length === 0) return { malformed: "Error details are invalid or empty", status };
  const first = d.errors[0] as { code?: unknown; message?: unknown };
  if (typeof first?.code !== "string" || typeof first.message !== "string")
    return { malformed: "Error details are invalid or empty", status };
  return { codedError: { code: first.code, message: first.message, status } };
}

/**
 * `new \SnapAuth\Client($secretKey, $apiHost)`: the constructor throws InvalidSecretKey unless the
 * key starts with `secret_`; `makeApiCall($route, $params)` posts with `Authorization: Basic
 * base64(":" + secretKey)`, Accept/Content-Type JSON, Content-Length, User-Agent and X-SDK, and
 * reads the answer as `readAsPhpSdk` does.
 */
export function phpSdkClient(baseUrl: URL, secretKey: string) {
  if (!secretKey.startsWith("secret_")) throw new Error("SnapAuth\\Exception\\InvalidSecretKey");
  return {
    async makeApiCall(route: string, params: Record<string, unknown>): Promise<PhpSdkOutcome> {
      const json = JSON.stringify(params);
      const response = await fetch(`${baseUrl.origin}${route}`, {
        method: "POST",
        headers: {
          Authorization: `Basic ${Buffer.from(`:${secretKey}`).toString("base64")}`,
          Accept: "application/json",
          "Content-Type": "application/json",
          "Content-Length": String(Buffer.byteLength(json)),
          "User-Agent": "php-sdk/0.3.0 curl/8.5.0 php/8.3.6",
          "X-SDK": "php/0.3.0",
        },
        body: json,
      });
      return readAsPhpSdk(response.status, await response.text());
    },
  };
}
