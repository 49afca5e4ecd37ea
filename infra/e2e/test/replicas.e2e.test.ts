/**
 * Two consumer-auth instances on different ports, same Postgres schema / Redis prefix / NATS
 * streams (issue 3: "a second instance of consumer-auth on another port serves the same
 * sessions"): a session made on one is refreshed, checked and revoked on the other, and both
 * publish the same signing keys.
 */
import { createOrganization, type Stack, startStack } from "../src/stack.mjs";

let stack: Stack;
let a: string;
let b: string;
let pk: string;

async function post(base: string, path: string, headers: Record<string, string>, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, json: text ? JSON.parse(text) : null };
}

async function check(base: string, token: string): Promise<number> {
  return (await fetch(`${base}/api/v1/auth/check`, { headers: { authorization: `Bearer ${token}`, "x-publishable-key": pk } })).status;
}

beforeAll(async () => {
  stack = await startStack({ services: ["admin-key", "consumer-auth"] });
  a = stack.urls["consumer-auth"] ?? "";
  b = await stack.startReplica("consumer-auth");
  pk = (await createOrganization(stack.urls["admin-key"] ?? "", stack.operatorToken, "Replicas")).keys.publishable.live;
}, 90_000);

afterAll(async () => {
  await stack?.stop();
}, 30_000);

test("both instances publish the same JWKS", async () => {
  const [ja, jb] = await Promise.all([a, b].map(async (u) => (await fetch(`${u}/.well-known/jwks.json`)).json()));
  expect(ja.keys.length).toBeGreaterThan(0);
  expect(jb).toEqual(ja);
});

test("a session from instance A is refreshed, checked and revoked on instance B", async () => {
  const guest = await post(a, "/api/v1/auth/guest", { "x-publishable-key": pk });
  if (guest.status !== 200 && guest.status !== 201) throw new Error(`guest on A: ${guest.status} ${guest.text}`);
  expect(await check(b, guest.json.accessToken)).toBe(200);

  const refreshed = await post(b, "/api/v1/auth/refresh", { "x-publishable-key": pk }, { refreshToken: guest.json.refreshToken });
  expect(refreshed.status).toBe(200);
  expect(await check(a, refreshed.json.accessToken)).toBe(200);

  const logout = await post(b, "/api/v1/auth/logout", { authorization: `Bearer ${refreshed.json.accessToken}` });
  expect(logout.status).toBe(204);
  // Revocation is shared (Postgres + the revoked-session set in Redis): A refuses at once.
  expect(await check(a, refreshed.json.accessToken)).toBe(401);
  const again = await post(a, "/api/v1/auth/refresh", { "x-publishable-key": pk }, { refreshToken: refreshed.json.refreshToken });
  expect(again.status).toBe(401);
});
