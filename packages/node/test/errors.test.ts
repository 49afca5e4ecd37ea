import { describe, expect, test } from "@jest/globals";
import {
  AuthenticationError,
  Authplane,
  AuthplaneError,
  ConflictError,
  InvalidRequestError,
  InvalidResponseError,
  isPasskeyError,
  NotFoundError,
  RateLimitError,
  UnavailableError,
} from "../src/index.js";

const SK = "sk_test_abcdefghijklmnopqrstuvwx";

/** A fetch that answers one canned response and records the request it was given. */
function answering(status: number, body: unknown, headers: Record<string, string> = {}) {
  const seen: Request[] = [];
  const fetchImpl = async (input: RequestInfo | URL, init?: RequestInit) => {
    seen.push(new Request(input, init));
    return new Response(typeof body === "string" ? body : JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json", ...headers },
    });
  };
  return { seen, fetch: fetchImpl as typeof fetch };
}

describe("the client's requests", () => {
  test("the passkey server API sends Basic ':' + the secret key, also when given in the SDKs' secret_ form", async () => {
    for (const secretKey of [SK, `secret_${SK}`]) {
      const f = answering(200, { result: { data: [] }, errors: [] });
      const ap = new Authplane({ baseUrl: "https://auth.example.com/", secretKey, fetch: f.fetch });
      expect(await ap.passkeys.findCredentials({ user: { handle: "ada" } })).toEqual([]);
      const req = f.seen[0] as Request;
      expect(req.url).toBe("https://auth.example.com/credential/find");
      expect(req.headers.get("authorization")).toBe(`Basic ${Buffer.from(`:${SK}`).toString("base64")}`);
      expect(await req.json()).toEqual({ user: { handle: "ada" } });
    }
  });

  test("the Admin API sends Bearer sk_…; the operator API its token; X-Request-Id when asked", async () => {
    const f = answering(200, { keys: [] });
    const ap = new Authplane({ baseUrl: "http://localhost:8080", secretKey: SK, operatorToken: "op-token", fetch: f.fetch });
    await ap.admin.listKeys({ requestId: "req-1" });
    expect(f.seen[0]?.headers.get("authorization")).toBe(`Bearer ${SK}`);
    expect(f.seen[0]?.headers.get("x-request-id")).toBe("req-1");
    const g = answering(200, { organizations: [], nextBefore: null });
    const op = new Authplane({ baseUrl: "http://localhost:8080", operatorToken: "op-token", fetch: g.fetch });
    await op.operator.listOrganizations({ limit: 5 });
    expect(g.seen[0]?.url).toBe("http://localhost:8080/api/v1/organizations?limit=5");
    expect(g.seen[0]?.headers.get("authorization")).toBe("Bearer op-token");
  });

  test("a publishable key is refused as secretKey; calls without their credential throw before sending", async () => {
    expect(() => new Authplane({ baseUrl: "http://x", secretKey: "pk_test_abc" })).toThrow(/secret key/);
    const f = answering(200, {});
    const ap = new Authplane({ baseUrl: "http://x", fetch: f.fetch });
    await expect(ap.admin.listKeys()).rejects.toThrow(/secretKey/);
    await expect(ap.operator.listOrganizations()).rejects.toThrow(/operatorToken/);
    await expect(
      new Authplane({ baseUrl: "http://x", operatorToken: "t", fetch: f.fetch }).operator.getOrganization("../keys"),
    ).rejects.toThrow(/organization id/);
    expect(f.seen).toHaveLength(0);
  });
});

describe("errors as typed exceptions with the API's codes", () => {
  test("seed 003 wrapped errors: code from errors[0], PasskeyApiError", async () => {
    const f = answering(404, { result: null, errors: [{ code: "EntityNotFound", message: "No credential with this id." }] });
    const ap = new Authplane({ baseUrl: "http://x", secretKey: SK, fetch: f.fetch });
    const err = await ap.passkeys.updateCredential({ credentialId: "ctl_x", active: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(isPasskeyError(err)).toBe(true);
    expect(err).toMatchObject({ status: 404, code: "EntityNotFound", message: "No credential with this id.", api: "passkey" });
  });

  test("seed 000 errors: code from `error` (the seed's own wording kept)", async () => {
    const ap = (status: number, body: unknown, headers?: Record<string, string>) =>
      new Authplane({ baseUrl: "http://x", secretKey: SK, fetch: answering(status, body, headers).fetch });
    const e401 = await ap(401, { error: "Authentication required" })
      .admin.listKeys()
      .catch((e: unknown) => e);
    expect(e401).toBeInstanceOf(AuthenticationError);
    expect(e401).toMatchObject({ code: "Authentication required", api: "admin" });
    const e409 = await ap(409, { error: "key_not_active", message: "The key is revoked, expired or already rotated." })
      .admin.rotateKey("key_01JC0000000000000000000000")
      .catch((e: unknown) => e);
    expect(e409).toBeInstanceOf(ConflictError);
    expect(e409).toMatchObject({ code: "key_not_active", message: "The key is revoked, expired or already rotated." });
    const e400 = await ap(400, { error: "validation_error", message: "provider: Required" })
      .consumer.authorizeExternal({ provider: "x", issuer: "y", subject: "z" })
      .catch((e: unknown) => e);
    expect(e400).toBeInstanceOf(InvalidRequestError);
    const e429 = await ap(429, { error: "rate_limited" }, { "retry-after": "7", "x-request-id": "r-9" })
      .admin.getSettings()
      .catch((e: unknown) => e);
    expect(e429).toBeInstanceOf(RateLimitError);
    expect(e429).toMatchObject({ retryAfterSeconds: 7, requestId: "r-9", code: "rate_limited" });
    const e503 = await ap(503, "<html>bad gateway</html>")
      .admin.getSettings()
      .catch((e: unknown) => e);
    expect(e503).toBeInstanceOf(UnavailableError);
    expect(e503).toMatchObject({ status: 503, code: "http_503" });
  });

  test("no answer: UnavailableError network_error; a 2xx that breaks the contract: InvalidResponseError", async () => {
    const down = new Authplane({
      baseUrl: "http://x",
      secretKey: SK,
      fetch: (async () => {
        throw new TypeError("fetch failed");
      }) as typeof fetch,
    });
    const err = await down.admin.listKeys().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err).toMatchObject({ status: 0, code: "network_error" });
    const odd = new Authplane({ baseUrl: "http://x", secretKey: SK, fetch: answering(200, { keys: "nope" }).fetch });
    const bad = await odd.admin.listKeys().catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(InvalidResponseError);
    expect(bad).toBeInstanceOf(AuthplaneError);
    expect((bad as Error).message).toMatch(/keys/);
  });

  test("a call that gets no answer within timeoutMs fails with code timeout", async () => {
    const slow = new Authplane({
      baseUrl: "http://x",
      secretKey: SK,
      timeoutMs: 50,
      fetch: ((_: unknown, init?: RequestInit) =>
        new Promise((_resolve, reject) => {
          init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
        })) as typeof fetch,
    });
    await expect(slow.admin.listKeys()).rejects.toMatchObject({ code: "timeout", status: 0 });
  });
});
