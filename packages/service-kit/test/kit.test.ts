import express from "express";
import request from "supertest";
import { z } from "zod";
import { BaseEnv, ConfigError, parseEnv, redactConfig } from "../src/env.js";
import { AppError, consumerErrorFormat, DependencyUnavailableError, parseInput } from "../src/errors.js";
import { createHttpApp } from "../src/http.js";
import { createLogger } from "../src/logger.js";
import { createMetrics } from "../src/metrics.js";
import { captureLogs } from "../src/testing/index.js";

describe("config", () => {
  test("a bad variable stops start-up with a message naming it", () => {
    const Env = BaseEnv.extend({ PORT: z.coerce.number().int().min(1).max(65535) });
    expect(() => parseEnv(Env, { PORT: "http", LOG_LEVEL: "loud" })).toThrow(ConfigError);
    try {
      parseEnv(Env, { PORT: "http", LOG_LEVEL: "loud" });
    } catch (err) {
      expect((err as Error).message).toMatch(/PORT/);
      expect((err as Error).message).toMatch(/LOG_LEVEL/);
    }
  });

  test("secrets are masked before the config is logged", () => {
    const out = redactConfig({ OPERATOR_TOKEN: "s3cr3t-operator", DATABASE_URL: "postgresql://u:pw@db:5432/x", PORT: 1 });
    expect(JSON.stringify(out)).not.toContain("s3cr3t-operator");
    expect(JSON.stringify(out)).not.toContain(":pw@");
    expect(out.PORT).toBe(1);
  });

  test("credentials in any URL position are masked: userinfo, URL lists, bare user:pass@, tokens in query strings", () => {
    const out = redactConfig({
      DATABASE_URL: "postgresql://app:pg-Secret1@db.internal:5432/x?sslpassword=ssl-Secret2&application_name=authplane",
      REDIS_URL: "rediss://:redis-Secret3@cache:6380/0",
      NATS_URL: "nats://nuser:nats-Secret4@n1:4222,nats://nats-Token5@n2:4222",
      SMTP_URL: "smtps://mailer:smtp-Secret6@smtp.example:465",
      WEBHOOK_ENDPOINT: "https://hooks.example/x?access_token=hook-Secret7&team=a",
      NATS_SERVERS: "u:bare-Secret8@n3:4222",
      HOST: "0.0.0.0",
    });
    const text = JSON.stringify(out);
    for (let i = 1; i <= 8; i++) expect(text).not.toMatch(new RegExp(`Secret${i}|Token${i}`));
    expect(out.DATABASE_URL).toBe("postgresql://app:***@db.internal:5432/x?sslpassword=***&application_name=authplane");
    expect(out.NATS_URL).toBe("nats://nuser:***@n1:4222,nats://***@n2:4222");
    expect(out.HOST).toBe("0.0.0.0");
  });
});

describe("logger", () => {
  test("keys, tokens, codes and authorization headers never reach a log line", async () => {
    const logs = captureLogs();
    const logger = createLogger({ name: "t", level: "debug", destination: logs.stream });
    logger.info(
      {
        headers: { authorization: "Bearer sk_test_abcdefghijklmnopqrstuvwxyz", "x-publishable-key": "pk_test_abcdefghijklmnopqrstuvwxyz" },
        body: { code: "123456", refreshToken: "rt_secret", accessToken: "eyJsecret" },
        token: "rtn_secret",
      },
      "hello",
    );
    await new Promise((r) => setTimeout(r, 20));
    const text = logs.text();
    expect(text).toContain("hello");
    for (const secret of ["sk_test_abc", "pk_test_abc", "123456", "rt_secret", "eyJsecret", "rtn_secret"])
      expect(text).not.toContain(secret);
  });
});

describe("http app", () => {
  function app() {
    const logs = captureLogs();
    const logger = createLogger({ name: "t", level: "debug", destination: logs.stream });
    const { app, finish } = createHttpApp({
      logger,
      metrics: createMetrics("t", { defaultMetrics: false }),
      readiness: {
        good: async () => {},
        bad: async () => Promise.reject(new Error("connect ECONNREFUSED db-primary.internal.example:5432 user=app_admin")),
      },
      trustProxy: "loopback".split(","),
    });
    const r = express.Router();
    r.post("/echo", (req, res) => {
      const body = parseInput(z.object({ n: z.number() }), req.body);
      res.json(body);
    });
    r.get("/dep", () => {
      throw new DependencyUnavailableError("redis");
    });
    r.get("/boom", () => {
      throw new Error("kaboom");
    });
    r.get("/items/:id", (req, res) => {
      res.json({ id: req.params.id });
    });
    r.get("/decode", () => {
      decodeURIComponent("%ff");
    });
    r.get("/teapot", () => {
      throw new AppError(418, "teapot", "I am a teapot");
    });
    app.use(r);
    return { app: finish(consumerErrorFormat), logs };
  }

  test("health, readiness with the failing check named (its detail only in the log); no /metrics on the public port", async () => {
    const { app: a, logs } = app();
    expect((await request(a).get("/healthz")).status).toBe(200);
    const ready = await request(a).get("/readyz");
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ status: "unavailable", checks: { good: "ok", bad: "unavailable" } });
    expect(ready.text).not.toMatch(/internal|5432|app_admin|ECONNREFUSED/);
    await new Promise((r) => setTimeout(r, 20));
    expect(logs.text()).toContain("db-primary.internal.example");
    // /metrics moved to its own port (METRICS_PORT, see ops.test.ts): the public app has none.
    const metrics = await request(a).get("/metrics");
    expect(metrics.status).toBe(404);
    expect(metrics.text).not.toContain("http_requests_total");
  });

  test("bad input is a 400 in the seed format; invalid JSON too", async () => {
    const { app: a } = app();
    const bad = await request(a).post("/echo").send({ n: "x" });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe("validation_error");
    expect(bad.body.issues[0].path).toEqual(["n"]);
    const junk = await request(a).post("/echo").set("Content-Type", "application/json").send("{nope");
    expect(junk.status).toBe(400);
    expect(junk.body.error).toBe("validation_error");
  });

  test("dependency faults answer 503 with Retry-After; unknown errors a 500 with an errorId, no stack", async () => {
    const { app: a, logs } = app();
    const dep = await request(a).get("/dep");
    expect(dep.status).toBe(503);
    expect(dep.headers["retry-after"]).toBe("1");
    expect(dep.body.error).toBe("service_unavailable");
    const boom = await request(a).get("/boom");
    expect(boom.status).toBe(500);
    expect(boom.body).toEqual({ error: "internal_error", message: "An internal error occurred.", errorId: expect.any(String) });
    await new Promise((r) => setTimeout(r, 20));
    expect(logs.text()).toContain(boom.body.errorId);
    const tea = await request(a).get("/teapot");
    expect(tea.status).toBe(418);
    expect(tea.body).toEqual({ error: "teapot", message: "I am a teapot" });
  });

  test("hostile input is a 400 in the seed format before any route runs: NUL, lone surrogates, bad percent-encoding, __proto__, deep nesting", async () => {
    const { app: a } = app();
    const refused = async (r: request.Test, where: RegExp) => {
      const res = await r;
      expect(res.status).toBe(400);
      expect(res.body.error).toBe("validation_error");
      expect(JSON.stringify(res.body.issues)).toMatch(where);
    };
    await refused(request(a).post("/echo").send({ n: 1, name: "a\u0000b" }), /NUL/);
    await refused(
      request(a)
        .post("/echo")
        .send({ n: 1, user: { id: "\ud800x" } }),
      /surrogate/,
    );
    await refused(request(a).post("/echo").set("Content-Type", "application/json").send('{"n":1,"x":"\\udc00"}'), /surrogate/);
    await refused(request(a).post("/echo").set("Content-Type", "application/json").send('{"n":1,"__proto__":{"admin":true}}'), /__proto__/);
    await refused(
      request(a).post("/echo").set("Content-Type", "application/json").send('{"n":1,"c":{"constructor":{"prototype":{}}}}'),
      /constructor/,
    );
    await refused(
      request(a)
        .post("/echo")
        .send({ n: 1, ["k\u0000"]: 1 }),
      /property name/,
    );
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    await refused(request(a).post("/echo").send({ n: 1, deep }), /nested/);
    await refused(request(a).get("/items/%ff"), /percent-encoded/);
    await refused(request(a).get("/items/%E0%A4%A"), /percent-encoded/);
    await refused(request(a).get("/items/%ED%A0%80"), /percent-encoded/);
    await refused(request(a).get("/items/a%00b"), /NUL/);
    await refused(request(a).get("/items/x?q=a%00b"), /NUL/);
    // Valid text (also non-BMP) passes.
    expect((await request(a).get("/items/%F0%9F%94%91%20k%C3%A9y")).body).toEqual({ id: "🔑 kéy" });
    expect((await request(a).post("/echo").send({ n: 1, name: "Zoë 🔑" })).status).toBe(200);
  });

  test("a URIError thrown anywhere is a 400, not a 500", async () => {
    const { app: a } = app();
    const res = await request(a).get("/decode");
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("validation_error");
  });

  test("request ids are echoed or generated", async () => {
    const { app: a } = app();
    expect((await request(a).get("/healthz").set("X-Request-Id", "abc-123")).headers["x-request-id"]).toBe("abc-123");
    expect((await request(a).get("/healthz").set("X-Request-Id", "bad id with spaces")).headers["x-request-id"]).toMatch(/^[0-9A-Z]{26}$/);
  });
});

describe("no batched lookups", () => {
  test("no service calls Prisma's findUnique (its dataloader would put other requests' parameters in the same query)", async () => {
    const { readdir, readFile } = await import("node:fs/promises");
    const { join } = await import("node:path");
    const root = join(process.cwd(), "..", "..", "services");
    const offenders: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory() && e.name !== "generated") await walk(p);
        else if (e.isFile() && p.endsWith(".ts") && /\.findUnique(OrThrow)?\(/.test(await readFile(p, "utf8"))) offenders.push(p);
      }
    };
    for (const svc of await readdir(root)) await walk(join(root, svc, "src"));
    expect(offenders).toEqual([]);
  });
});
