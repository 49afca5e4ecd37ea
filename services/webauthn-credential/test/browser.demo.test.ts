/**
 * The demo backend and page files over plain HTTP (no browser): configuration, the SDK bundle,
 * input validation, verbatim relay of the server API, and that the secret key never follows a
 * client-supplied Host header.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type AdminKeyTestHandle, startAdminKeyForTest } from "@authplane/admin-key/testing";
import { createTestIsolation } from "@authplane/service-kit/testing";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import supertest from "supertest";
import { startWebauthnForTest } from "../src/testing.js";

type Service = Awaited<ReturnType<typeof startWebauthnForTest>>;

const iso = createTestIsolation();
let admin: AdminKeyTestHandle;
let keys: { pk: string; sk: string };
let configured: Service;
let unconfigured: Service;
let disabled: Service;

beforeAll(async () => {
  admin = await startAdminKeyForTest(iso);
  const org = await admin.createOrganization({
    webauthn: { rpId: "localhost", rpName: "Demo", origins: ["http://localhost:8080"] },
  });
  keys = { pk: org.keys.publishable.test, sk: org.keys.secret.test };
  configured = await startWebauthnForTest(iso, {
    env: { DEMO_ENABLED: "true", DEMO_PUBLISHABLE_KEY: keys.pk, DEMO_SECRET_KEY: keys.sk },
  });
  unconfigured = await startWebauthnForTest(iso, { env: { DEMO_ENABLED: "true" } });
  disabled = await startWebauthnForTest(iso, { env: { DEMO_ENABLED: "false", DEMO_SECRET_KEY: keys.sk } });
});

afterAll(async () => {
  await Promise.all([configured?.stop(), unconfigured?.stop(), disabled?.stop()]);
  await admin?.stop();
  await iso.cleanup();
});

describe("page and SDK bundle", () => {
  test("/demo redirects to /demo/, which serves the page with a passkey-autofill username field", async () => {
    const http = supertest(configured.app);
    const redirect = await http.get("/demo");
    expect([301, 302, 308]).toContain(redirect.status);
    expect(redirect.headers.location).toBe("/demo/");
    const page = await http.get("/demo/");
    expect(page.status).toBe(200);
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    expect(page.text).toContain('autocomplete="username webauthn"');
    expect(page.text).toContain('<pre id="result">');
    const script = await http.get("/demo/demo.js");
    expect(script.status).toBe(200);
    expect(script.headers["content-type"]).toMatch(/javascript/);
    expect(script.text).toContain('from "/demo/sdk.js"');
    // Its stylesheet is the kit's shared demo.css.
    expect(page.text).toContain('<link rel="stylesheet" href="/demo/demo.css" />');
    const css = await http.get("/demo/demo.css");
    expect(css.status).toBe(200);
    expect(css.headers["content-type"]).toMatch(/^text\/css/);
  });

  test("/demo/sdk.js is the built ESM bundle of @authplane/passkeys-browser, sending X-SDK js/<package version>", async () => {
    const res = await supertest(configured.app).get("/demo/sdk.js");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/javascript/);
    const { version } = JSON.parse(readFileSync(new URL("../../../packages/passkeys-browser/package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    expect(res.text).toContain(`"${version}"`);
    for (const path of ["/attestation/options", "/attestation/process", "/assertion/options", "/assertion/process"]) {
      expect(res.text).toContain(path);
    }
    expect(res.text).toMatch(/export\s*\{/);
  });

  test("/demo/config gives the page the publishable key (never the secret key) and a same-origin base URL", async () => {
    const res = await supertest(configured.app).get("/demo/config");
    expect(res.status).toBe(200);
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.body).toEqual({ configured: true, publishableKey: keys.pk, baseUrl: "" });
    expect(res.text).not.toContain(keys.sk);
  });

  test("without DEMO keys the page explains what to set and the backend refuses with a wrapped 503", async () => {
    const http = supertest(unconfigured.app);
    const config = await http.get("/demo/config");
    expect(config.body.configured).toBe(false);
    expect(config.body.message).toContain("DEMO_PUBLISHABLE_KEY");
    expect(config.body.message).toContain("DEMO_SECRET_KEY");
    expect(config.body.publishableKey).toBeUndefined();
    const verify = await http.post("/demo/backend/verify").send({ token: "atn_x" });
    expect(verify.status).toBe(503);
    expect(verify.body.result).toBeNull();
    expect(verify.body.errors[0].code).toBe("InternalError");
    expect(verify.body.errors[0].message).toContain("DEMO_SECRET_KEY");
  });

  test("with DEMO_ENABLED=false nothing under /demo exists", async () => {
    const http = supertest(disabled.app);
    for (const path of ["/demo/", "/demo/config", "/demo/sdk.js"]) expect((await http.get(path)).status).toBe(404);
    expect((await http.post("/demo/backend/verify").send({ token: "atn_x" })).status).toBe(404);
  });
});

describe("demo backend", () => {
  test("bad input is a wrapped 400, never forwarded", async () => {
    const http = supertest(configured.app);
    const noUser = await http.post("/demo/backend/attach").send({ token: "rtn_x" });
    expect(noUser.status).toBe(400);
    expect(noUser.body).toMatchObject({ result: null, errors: [{ code: "InvalidInput" }] });
    const notJson = await http.post("/demo/backend/verify").set("Content-Type", "application/json").send("{");
    expect(notJson.status).toBe(400);
    expect(notJson.body.errors[0].code).toBe("InvalidInput");
  });

  test("relays the server API's answer verbatim (status and body)", async () => {
    const http = supertest(configured.app);
    const direct = await http
      .post("/auth/verify")
      .set("Authorization", `Basic ${Buffer.from(`:${keys.sk}`).toString("base64")}`)
      .send({ token: "atn_neverissued" });
    const relayed = await http.post("/demo/backend/verify").send({ token: "atn_neverissued" });
    expect(direct.status).toBeGreaterThanOrEqual(400);
    expect(relayed.status).toBe(direct.status);
    expect(relayed.body).toEqual(direct.body);
    const attach = await http.post("/demo/backend/attach").send({ token: "rtn_neverissued", username: "ada" });
    expect(attach.body.errors[0].code).toBe(direct.body.errors[0].code);
  });

  test("a forged Host header cannot make the backend send the secret key elsewhere", async () => {
    const seen: Array<string | undefined> = [];
    const evil: Server = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify({ result: { user: { id: "attacker-chosen" } } }));
    });
    await new Promise<void>((resolve) => evil.listen(0, "127.0.0.1", resolve));
    try {
      const evilHost = `127.0.0.1:${(evil.address() as AddressInfo).port}`;
      const res = await supertest(configured.app)
        .post("/demo/backend/verify")
        .set("Host", evilHost)
        .set("X-Forwarded-Host", evilHost)
        .send({ token: "atn_neverissued" });
      expect(seen).toEqual([]);
      expect(res.body.result).toBeNull();
      expect(JSON.stringify(res.body)).not.toContain("attacker-chosen");
    } finally {
      await new Promise<void>((resolve) => evil.close(() => resolve()));
    }
  });
});
