import { connectJetStream, ensureStream, isTransientJetStreamError, type NatsHandles, retryTransient } from "../src/nats.js";
import { createTestIsolation } from "../src/testing/index.js";

// Declaring streams at start-up on a fresh NATS cluster (issue 12): a timeout or "no responders"
// while the replicated stream's leader is elected is retried; a refusal is not.

const iso = createTestIsolation();
let nats: NatsHandles;

beforeAll(async () => {
  nats = await connectJetStream(iso.natsUrl, "kit-jetstream-retry-test");
});

afterAll(async () => {
  await nats.nc.close();
  await iso.cleanup();
});

test("a call failing with no responders is tried again until it succeeds", async () => {
  let calls = 0;
  const result = await retryTransient(
    async () => {
      calls++;
      // Nobody listens here: the server answers "no responders" (what a JetStream API call gets
      // while no server can answer for the stream).
      if (calls < 3) await nats.nc.request(`${iso.natsSubjectPrefix}nobody.listens`, "", { timeout: 1_000 });
      return "declared";
    },
    { delayMs: 10 },
  );
  expect(result).toBe("declared");
  expect(calls).toBe(3);
});

test("a timeout is transient; it is given up after the attempts", async () => {
  let calls = 0;
  const sub = nats.nc.subscribe(`${iso.natsSubjectPrefix}silent`, { callback: () => {} });
  const failed = await retryTransient(
    async () => {
      calls++;
      // Someone listens but never answers: the request times out.
      return nats.nc.request(`${iso.natsSubjectPrefix}silent`, "", { timeout: 100 });
    },
    { attempts: 3, delayMs: 10 },
  ).catch((err: unknown) => err);
  expect(failed).toBeInstanceOf(Error);
  expect(isTransientJetStreamError(failed)).toBe(true);
  expect(calls).toBe(3);
  sub.unsubscribe();
});

test("a refusal is not retried: replicas the server cannot place fail at once", async () => {
  let calls = 0;
  const name = `RETRY${iso.natsStreamSuffix}`;
  const refused = await retryTransient(
    () => {
      calls++;
      // One server, 3 replicas: JetStream refuses (no retry can cure it).
      return ensureStream(nats.jsm, { name, subjects: [`${iso.natsSubjectPrefix}retry.>`], maxAgeSeconds: 60, replicas: 3 });
    },
    { delayMs: 10 },
  ).catch((err: unknown) => err);
  expect(refused).toBeInstanceOf(Error);
  expect(isTransientJetStreamError(refused)).toBe(false);
  expect(calls).toBe(1);
});
