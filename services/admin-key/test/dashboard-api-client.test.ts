import http from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { gatewayClient, ServiceCallError } from "../src/dashboard/api-client.js";

// The console's client for the other services' admin endpoints (through the gateway): what it
// sends, and a clear error for each way a call can fail. A local stand-in answers (the real
// endpoints are other services'; they have their own tests).

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const seen: Seen[] = [];
let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      const path = (req.url ?? "").split("?")[0];
      const json = (status: number, value: unknown) =>
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
      if (path === "/ok") return json(200, { data: [{ id: "c1" }], nextCursor: null });
      if (path === "/wrapped") return json(200, { result: { id: "cred_1" }, errors: [] });
      if (path === "/missing") return json(404, { error: "consumer_not_found", message: "No such consumer." });
      if (path === "/missing-003") return json(404, { result: null, errors: [{ code: "EntityNotFound", message: "No such credential." }] });
      if (path === "/shape") return json(200, { unexpected: true });
      if (path === "/text") return res.writeHead(200, { "content-type": "text/plain" }).end("hello");
      if (path === "/slow") return void setTimeout(() => json(200, {}), 2000);
      json(500, { error: "internal_error" });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const env = () => ({ DASHBOARD_API_URL: `${base}/`, DASHBOARD_API_TIMEOUT_MS: 300, OPERATOR_TOKEN: "op-token-for-test" });
const scope = { organizationId: "org_01HZZZZZZZZZZZZZZZZZZZZZZZ", mode: "test" as const };

async function failure(p: Promise<unknown>): Promise<ServiceCallError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ServiceCallError) return err;
    throw err;
  }
  throw new Error("the call succeeded");
}

test("sends the operator token, the organization and mode, the query and a JSON body; parses the answer", async () => {
  const client = gatewayClient(env());
  const schema = z.object({ data: z.array(z.object({ id: z.string() })), nextCursor: z.string().nullable() });
  const out = await client.call({ method: "GET", path: "/ok", scope, query: { q: "a@b.example", limit: 25, cursor: undefined }, schema });
  expect(out).toEqual({ data: [{ id: "c1" }], nextCursor: null });
  const got = seen.at(-1);
  expect(got?.url).toBe("/ok?q=a%40b.example&limit=25");
  expect(got?.headers.authorization).toBe("Bearer op-token-for-test");
  expect(got?.headers["x-organization-id"]).toBe(scope.organizationId);
  expect(got?.headers["x-mode"]).toBe("test");

  await client.call({ method: "POST", path: "/ok", scope, body: { reason: "admin" }, schema });
  expect(seen.at(-1)?.body).toBe('{"reason":"admin"}');
  expect(seen.at(-1)?.headers["content-type"]).toBe("application/json");
});

test("a seed 003 answer ({result, errors}) is unwrapped", async () => {
  const out = await gatewayClient(env()).call({ method: "GET", path: "/wrapped", scope, schema: z.object({ id: z.string() }) });
  expect(out).toEqual({ id: "cred_1" });
});

test("an HTTP error carries the status and the service's code, in either error format", async () => {
  const client = gatewayClient(env());
  const a = await failure(client.call({ method: "GET", path: "/missing", scope, schema: z.unknown() }));
  expect(a).toMatchObject({ failure: "http", status: 404, code: "consumer_not_found", notFound: true });
  expect(a.message).toBe("GET /missing: http (HTTP 404 consumer_not_found)");
  const b = await failure(client.call({ method: "GET", path: "/missing-003", scope, schema: z.unknown() }));
  expect(b).toMatchObject({ failure: "http", status: 404, code: "EntityNotFound" });
  const c = await failure(client.call({ method: "GET", path: "/boom", scope, schema: z.unknown() }));
  expect(c).toMatchObject({ failure: "http", status: 500, notFound: false });
});

test("an answer of another shape, or not JSON, is invalid_response", async () => {
  const client = gatewayClient(env());
  expect(await failure(client.call({ method: "GET", path: "/shape", scope, schema: z.object({ id: z.string() }) }))).toMatchObject({
    failure: "invalid_response",
    status: 200,
  });
  expect(await failure(client.call({ method: "GET", path: "/text", scope, schema: z.unknown() }))).toMatchObject({
    failure: "invalid_response",
  });
});

test("no answer within DASHBOARD_API_TIMEOUT_MS is a timeout; a closed port is unreachable (the token is in no message)", async () => {
  const started = Date.now();
  const slow = await failure(gatewayClient(env()).call({ method: "GET", path: "/slow", scope, schema: z.unknown() }));
  expect(slow.failure).toBe("timeout");
  expect(Date.now() - started).toBeLessThan(1500);
  const down = await failure(
    gatewayClient({ ...env(), DASHBOARD_API_URL: "http://127.0.0.1:9" }).call({ method: "GET", path: "/ok", scope, schema: z.unknown() }),
  );
  expect(down.failure).toBe("unreachable");
  for (const e of [slow, down]) expect(e.message).not.toContain("op-token-for-test");
});
