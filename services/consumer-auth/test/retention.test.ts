import { createPgPool, type PgPool } from "@authplane/service-kit";
import { createConsumerAuthPruner } from "../src/retention.js";
import { startWorld, type World, request } from "./helpers.js";

/**
 * Issue 10 item 9: anyone with a publishable key adds sessions, refresh tokens and guests; rows past
 * their retention are deleted in bounded batches, rows inside it stay, and a revoked session whose
 * tokens could still be valid is never deleted (durable revocation reads it).
 */
let w: World;
let pool: PgPool;
beforeAll(async () => {
  // No timer: every round is run by the test.
  w = await startWorld({ env: { RETENTION_INTERVAL_SECONDS: "0", RETENTION_BATCH_SIZE: "3", RETENTION_BATCH_PAUSE_MS: "0" } });
  pool = createPgPool(w.iso.databaseUrl, w.iso.schema("consumer-auth"), 2);
});
afterAll(async () => {
  await pool?.end();
  await w?.stop();
});

const DAY = "interval '1 day'";

/** Deletes every Redis key of this test file (the shared Redis server is never flushed as a whole). */
const flushTestKeys = () => w.iso.flushRedis();

async function guest() {
  const res = await request(w.ca.app).post("/api/v1/auth/guest").set("X-Publishable-Key", w.orgA.keys.publishable.live);
  expect(res.status).toBe(200);
  return res.body as { session: { sessionId: string; consumerId: string }; accessToken: string; refreshToken: string };
}

function check(token: string) {
  return request(w.ca.app)
    .get("/api/v1/auth/check")
    .set("Authorization", `Bearer ${token}`)
    .set("X-Publishable-Key", w.orgA.keys.publishable.live);
}

/** Inserts `n` abandoned guests, each with one session and refresh token all `daysAgo` old. */
async function insertAbandoned(n: number, daysAgo: number, prefix: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = `${prefix}${i}`;
    ids.push(id);
    await pool.query(
      `INSERT INTO consumers (id, organization_id, mode, kind, created_at) VALUES ($1, 'org_x', 'live', 'guest', now() - $2 * ${DAY})`,
      [`con_${id}`, daysAgo],
    );
    await pool.query(
      `INSERT INTO sessions (id, organization_id, mode, consumer_id, type, method, access_token_ttl_seconds, refresh_token_ttl_seconds, created_at, access_expires_at)
       VALUES ($1, 'org_x', 'live', $2, 'guest', 'guest', 900, 2592000, now() - $3 * ${DAY}, now() - $3 * ${DAY} + interval '15 minutes')`,
      [`ses_${id}`, `con_${id}`, daysAgo],
    );
    await pool.query(
      `INSERT INTO refresh_tokens (id, session_id, token_hash, created_at, expires_at)
       VALUES ($1, $2, $3, now() - $4 * ${DAY}, now() - $4 * ${DAY} + interval '1 day')`,
      [`rt_${id}`, `ses_${id}`, `hash_${id}`, daysAgo],
    );
  }
  return ids;
}

async function count(table: "sessions" | "consumers" | "refresh_tokens", ids: string[]): Promise<number> {
  const prefix = { sessions: "ses_", consumers: "con_", refresh_tokens: "rt_" }[table];
  const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE id = ANY($1)`, [ids.map((i) => prefix + i)]);
  return Number(rows[0]?.n);
}

test("rows past retention are deleted in bounded batches; rows inside retention stay; a revoked session whose tokens could be valid stays", async () => {
  // 7 abandoned guests (40 days: everything expired long ago), 2 recent ones (expired 2 days ago: inside retention).
  const dead = await insertAbandoned(7, 40, "dead");
  const recent = await insertAbandoned(2, 2, "recent");

  // A real guest whose access token expired 20 days ago but whose refresh token is still valid: kept, and it still refreshes.
  const returning = await guest();
  await pool.query(`UPDATE sessions SET access_expires_at = now() - 20 * ${DAY} WHERE id = $1`, [returning.session.sessionId]);
  await pool.query(`UPDATE consumers SET created_at = now() - 40 * ${DAY} WHERE id = $1`, [returning.session.consumerId]);

  // A real guest logged out 30 days ago (as far as the row says) whose last access token is still valid: the
  // revocation record must stay, or the token would pass again once Redis loses its copy.
  const revokedLive = await guest();
  expect((await request(w.ca.app).post("/api/v1/auth/logout").set("Authorization", `Bearer ${revokedLive.accessToken}`)).status).toBe(204);
  await pool.query(`UPDATE sessions SET revoked_at = now() - 30 * ${DAY}, created_at = now() - 40 * ${DAY} WHERE id = $1`, [
    revokedLive.session.sessionId,
  ]);
  await pool.query(`UPDATE consumers SET created_at = now() - 40 * ${DAY} WHERE id = $1`, [revokedLive.session.consumerId]);

  // A revoked session whose last access token expired 10 days ago: deleted although its (revoked) refresh token has not expired.
  const revokedDead = await guest();
  expect((await request(w.ca.app).post("/api/v1/auth/logout").set("Authorization", `Bearer ${revokedDead.accessToken}`)).status).toBe(204);
  await pool.query(`UPDATE sessions SET revoked_at = now() - 10 * ${DAY}, access_expires_at = now() - 10 * ${DAY} WHERE id = $1`, [
    revokedDead.session.sessionId,
  ]);

  // One of the abandoned guests was upgraded: its session goes, the registered consumer stays.
  await pool.query(`UPDATE consumers SET kind = 'registered', upgraded_at = now() - 39 * ${DAY} WHERE id = 'con_dead0'`);

  // Batches of 3, at most 2 per round: a round deletes at most 6 sessions.
  const pruner = createConsumerAuthPruner({
    ...w.ca.deps,
    env: { ...w.ca.deps.env, RETENTION_BATCH_SIZE: 3, RETENTION_MAX_BATCHES: 2 },
  });
  const first = await pruner.runOnce();
  expect(first.sessions).toBe(6);
  expect(await count("sessions", dead)).toBeGreaterThanOrEqual(1);
  const second = await pruner.runOnce();
  expect((first.sessions ?? 0) + (second.sessions ?? 0)).toBe(8); // 7 abandoned + the long-dead revoked one
  expect(await count("sessions", dead)).toBe(0);
  expect(await count("refresh_tokens", dead)).toBe(0);
  // The guests went once their sessions had gone (the guests task runs after the sessions task).
  expect((first.guests ?? 0) + (second.guests ?? 0)).toBe(6);
  expect(await count("consumers", dead)).toBe(1); // con_dead0, upgraded

  // Inside retention: untouched.
  expect(await count("sessions", recent)).toBe(2);
  expect(await count("refresh_tokens", recent)).toBe(2);
  expect(await count("consumers", recent)).toBe(2);

  const sessions = async (id: string) => (await pool.query("SELECT id FROM sessions WHERE id = $1", [id])).rowCount;
  expect(await sessions(revokedLive.session.sessionId)).toBe(1);
  expect(await sessions(revokedDead.session.sessionId)).toBe(0);
  expect(await sessions(returning.session.sessionId)).toBe(1);

  // The revoked token is still refused, even after Redis's copy is rebuilt from Postgres.
  await flushTestKeys();
  expect((await check(revokedLive.accessToken)).status).toBe(401);
  // The returning guest refreshes as before.
  const refreshed = await request(w.ca.app)
    .post("/api/v1/auth/refresh")
    .set("X-Publishable-Key", w.orgA.keys.publishable.live)
    .send({ refreshToken: returning.refreshToken });
  expect(refreshed.status).toBe(200);

  // The round is counted on /metrics.
  const metrics = await w.ca.deps.metrics.registry.getSingleMetricAsString("retention_pruned_rows_total");
  expect(metrics).toMatch(/retention_pruned_rows_total\{table="sessions"[^}]*\} 8/);
});

test("an expired refresh token of a live session is deleted after its retention; the current one stays", async () => {
  const g = await guest();
  const r = await request(w.ca.app)
    .post("/api/v1/auth/refresh")
    .set("X-Publishable-Key", w.orgA.keys.publishable.live)
    .send({ refreshToken: g.refreshToken });
  expect(r.status).toBe(200);
  const tokens = async () =>
    (
      await pool.query<{ id: string; used_at: Date | null }>("SELECT id, used_at FROM refresh_tokens WHERE session_id = $1", [
        g.session.sessionId,
      ])
    ).rows;
  expect(await tokens()).toHaveLength(2);
  // The spent one expired 8 days ago (retention 7).
  await pool.query(`UPDATE refresh_tokens SET expires_at = now() - 8 * ${DAY} WHERE session_id = $1 AND used_at IS NOT NULL`, [
    g.session.sessionId,
  ]);
  const pruned = await createConsumerAuthPruner(w.ca.deps).runOnce();
  expect(pruned.refresh_tokens).toBe(1);
  const left = await tokens();
  expect(left).toHaveLength(1);
  expect(left[0]?.used_at).toBeNull();
  expect((await check(r.body.accessToken)).status).toBe(200);
});

test("two instances pruning at once: neither fails, every row past retention goes, nothing is deleted twice", async () => {
  const many = await insertAbandoned(20, 40, "both");
  const a = createConsumerAuthPruner(w.ca.deps);
  const other = createPgPool(w.iso.databaseUrl, w.iso.schema("consumer-auth"), 2);
  try {
    const b = createConsumerAuthPruner({ ...w.ca.deps, pool: other });
    const [ra, rb] = await Promise.all([a.runOnce(), b.runOnce()]);
    // Whoever found the lock held skipped; the rest is done by the next round.
    const rest = await a.runOnce();
    expect((ra.sessions ?? 0) + (rb.sessions ?? 0) + (rest.sessions ?? 0)).toBe(20);
    expect((ra.guests ?? 0) + (rb.guests ?? 0) + (rest.guests ?? 0)).toBe(20);
    expect(await count("sessions", many)).toBe(0);
    expect(await count("consumers", many)).toBe(0);
  } finally {
    await other.end();
  }
});
