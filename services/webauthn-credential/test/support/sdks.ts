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
