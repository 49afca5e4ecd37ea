import { AppError } from "../src/errors.js";
import { KeyBudget } from "../src/rate-limit.js";
import { createRedis } from "../src/redis.js";
import { createTestIsolation } from "../src/testing/index.js";

// Issue 10 item 3: a publishable key's budget is per (key, client) under a key-wide ceiling.
const iso = createTestIsolation();
const redis = createRedis(iso.redisUrl, iso.redisPrefix);

beforeAll(async () => {
  await redis.ping();
});

afterAll(async () => {
  redis.disconnect();
  await iso.cleanup();
});

async function status(p: Promise<void>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (err) {
    if (err instanceof AppError) return err.status;
    throw err;
  }
}

test("clients at their own limit are refused alone and spend nothing of the key's ceiling; the ceiling still holds", async () => {
  const budget = new KeyBudget(redis, { name: "kb-test", perClientPoints: 2, keyPoints: 7, durationSeconds: 60 });
  // Client a: 2 allowed, then refused 10 times; refusals take no point of the ceiling.
  expect(await status(budget.consume("key1", "a"))).toBe(200);
  expect(await status(budget.consume("key1", "a"))).toBe(200);
  for (let i = 0; i < 10; i++) expect(await status(budget.consume("key1", "a"))).toBe(429);
  // Clients b and c still get their share (ceiling: 7, of which a took 2).
  for (const c of ["b", "c"]) for (let i = 0; i < 2; i++) expect(await status(budget.consume("key1", c))).toBe(200);
  // The ceiling is now down to 1: one more client gets 1, then the key-wide ceiling refuses.
  expect(await status(budget.consume("key1", "d"))).toBe(200);
  expect(await status(budget.consume("key1", "e"))).toBe(429);
  // Another key has its own budget.
  expect(await status(budget.consume("key2", "a"))).toBe(200);
});
