import { jetstreamManager } from "@nats-io/jetstream";
import type { EventEnvelope } from "@authplane/contracts";
import pino from "pino";
import { connectJetStream, ensureEventStream, type NatsHandles, newEventId } from "../src/nats.js";
import { OUTBOX_TABLE_SQL, OutboxRelay } from "../src/outbox.js";
import { createPgPool, type PgPool } from "../src/postgres.js";
import { createTestIsolation } from "../src/testing/index.js";

const iso = createTestIsolation();
const schema = iso.schema("kit_outbox");
let pool: PgPool;
let nats: NatsHandles;
const logger = pino({ level: "silent" });

/**
 * An envelope of a made-up type: the relay moves any envelope, whatever its type (the catalog's
 * `newEvent` only builds catalogued ones).
 */
function newEvent(
  type: string,
  scope: { organizationId: string | null; mode: "live" | "test" | null },
  data: Record<string, unknown>,
): EventEnvelope {
  return { id: newEventId(), type, version: 1, occurredAt: new Date().toISOString(), ...scope, data };
}

beforeAll(async () => {
  pool = createPgPool(iso.databaseUrl, schema, 4);
  await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  await pool.query(OUTBOX_TABLE_SQL);
  nats = await connectJetStream(iso.natsUrl, "kit-outbox-test");
  await ensureEventStream(nats.jsm, iso.subjects);
});

afterAll(async () => {
  await nats.nc.drain();
  await pool.end();
  await iso.cleanup();
});

async function insert(events: EventEnvelope[]): Promise<void> {
  await pool.query(
    `INSERT INTO outbox_events (id, type, payload) SELECT e->>'id', e->>'type', e FROM jsonb_array_elements($1::jsonb) AS e`,
    [JSON.stringify(events)],
  );
}

async function streamEvents(): Promise<EventEnvelope[]> {
  const jsm = await jetstreamManager(nats.nc);
  const info = await jsm.streams.info(iso.subjects.eventsStream);
  const out: EventEnvelope[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(iso.subjects.eventsStream, { seq });
    if (m) out.push(m.json<EventEnvelope>());
  }
  return out;
}

test("every committed event reaches the stream exactly once, in commit order, across kicks, batches and a re-drain", async () => {
  const relay = new OutboxRelay({ pool, schema, js: nats.js, subjects: iso.subjects, logger, batchSize: 7, minDrainIntervalMs: 5 });
  relay.start();
  const sent: EventEnvelope[] = [];
  for (let i = 0; i < 12; i++) {
    const batch = [0, 1, 2].map((j) => newEvent("kit.v1.tested", { organizationId: "org_x", mode: "test" }, { i, j }));
    // Rows of one transaction share created_at: the relay orders them by id.
    sent.push(...[...batch].sort((a, b) => (a.id < b.id ? -1 : 1)));
    await insert(batch);
    relay.kick();
  }
  await relay.flush();
  // A relay that crashed between publish and mark re-sends: the stream de-duplicates on the id.
  await pool.query(`UPDATE outbox_events SET published_at = NULL WHERE id = ANY($1)`, [sent.slice(0, 5).map((e) => e.id)]);
  await relay.flush();
  await relay.stop();

  const got = await streamEvents();
  expect(got.map((e) => e.id)).toEqual(sent.map((e) => e.id));
  expect(got[4]).toEqual(sent[4]);
  const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbox_events WHERE published_at IS NULL`);
  expect(rows[0]?.n).toBe(0);
});

test("a missing stream fails the batch (rows stay unpublished for the retry), it does not mark them", async () => {
  const subjects = { ...iso.subjects, event: (type: string) => `nostream${iso.id}.${type}` };
  const relay = new OutboxRelay({ pool, schema, js: nats.js, subjects, logger, publishTimeoutMs: 1_000 });
  const e = newEvent("kit.v1.lost", { organizationId: null, mode: null }, {});
  await insert([e]);
  await relay.flush();
  const { rows } = await pool.query<{ published_at: Date | null }>(`SELECT published_at FROM outbox_events WHERE id = $1`, [e.id]);
  expect(rows[0]?.published_at).toBeNull();
  await pool.query(`DELETE FROM outbox_events WHERE id = $1`, [e.id]);
});

test("cleanup deletes only published rows older than the retention", async () => {
  await pool.query("DELETE FROM outbox_events");
  const mk = () => newEvent("kit.v1.old", { organizationId: null, mode: null }, {});
  const [oldPublished, freshPublished, oldUnpublished] = [mk(), mk(), mk()];
  await insert([oldPublished, freshPublished, oldUnpublished] as EventEnvelope[]);
  await pool.query(`UPDATE outbox_events SET published_at = now() - interval '3 hours' WHERE id = $1`, [oldPublished?.id]);
  await pool.query(`UPDATE outbox_events SET published_at = now() - interval '1 hour' WHERE id = $1`, [freshPublished?.id]);
  await pool.query(`UPDATE outbox_events SET created_at = now() - interval '3 hours' WHERE id = $1`, [oldUnpublished?.id]);

  const relay = new OutboxRelay({ pool, schema, js: nats.js, subjects: iso.subjects, logger, retentionHours: 2 });
  expect(await relay.cleanup()).toBe(1);
  const { rows } = await pool.query<{ id: string }>(`SELECT id FROM outbox_events ORDER BY id`);
  expect(rows.map((r) => r.id).sort()).toEqual([freshPublished?.id, oldUnpublished?.id].sort());
});

test("the relay's poll runs the cleanup on its own", async () => {
  await pool.query("DELETE FROM outbox_events");
  const e = newEvent("kit.v1.poll", { organizationId: null, mode: null }, {});
  await insert([e]);
  const relay = new OutboxRelay({
    pool,
    schema,
    js: nats.js,
    subjects: iso.subjects,
    logger,
    pollIntervalMs: 50,
    retentionHours: 0,
    cleanupIntervalMs: 100,
  });
  relay.start();
  const deadline = Date.now() + 5_000;
  let left = 1;
  while (Date.now() < deadline && left > 0) {
    await new Promise((r) => setTimeout(r, 100));
    left = (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbox_events`)).rows[0]?.n ?? -1;
  }
  await relay.stop();
  expect(left).toBe(0);
  expect((await streamEvents()).some((x) => x.id === e.id)).toBe(true);
});
