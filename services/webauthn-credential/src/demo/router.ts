import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AppError, parseInput } from "@authplane/service-kit";
import express, { type Request, type Response, Router } from "express";
import { z } from "zod";
import type { AppDeps } from "../deps.js";

/** Static page files: `services/webauthn-credential/demo/` (same relative path from src/ and dist/). */
const DEMO_DIR = fileURLToPath(new URL("../../demo/", import.meta.url));

/** The browser SDK bundle built by `@authplane/passkeys-browser`'s `generate` script. */
function sdkBundlePath(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve("@authplane/passkeys-browser/package.json");
  return path.join(path.dirname(pkg), "dist", "passkeys-browser.bundle.js");
}

const AttachBody = z.object({ token: z.string().min(1).max(200), username: z.string().trim().min(1).max(64) });
const VerifyBody = z.object({ token: z.string().min(1).max(200) });

const NOT_CONFIGURED =
  "The demo needs a test organization's keys: set DEMO_PUBLISHABLE_KEY (pk_test_…) and DEMO_SECRET_KEY (sk_test_…) " +
  "for webauthn-credential (`npm start` does it with the development organization), and give that organization " +
  'a WebAuthn relying party (rpId "localhost", origins ["http://localhost:8080"]).';

const UPSTREAM_TIMEOUT_MS = 5_000;

/**
 * The passkey demo: a page under /demo/ that uses the browser SDK against this service's client
 * API, and two endpoints that play "the customer's server" by calling this service's own server
 * API over HTTP with the secret key, returning its answer verbatim so the page can show it.
 *
 * Only mounted when DEMO_ENABLED (off in production by default): the backend endpoints attach
 * passkeys to whatever username they are given, exactly what a real backend must NOT do without
 * its own sign-in; that is acceptable for a test organization on a developer machine only.
 */
export function demoRouter(deps: AppDeps): Router {
  const router = Router();
  const { DEMO_PUBLISHABLE_KEY: publishableKey, DEMO_SECRET_KEY: secretKey } = deps.env;
  const configured = Boolean(publishableKey && secretKey);

  router.get("/demo/config", (_req, res) => {
    res.setHeader("Cache-Control", "no-store");
    // baseUrl "": the page calls the client API on its own origin (the gateway routes it here).
    res.json(configured ? { configured, publishableKey, baseUrl: "" } : { configured, message: NOT_CONFIGURED });
  });

  router.get("/demo/sdk.js", (_req, res) => {
    const file = sdkBundlePath();
    if (!existsSync(file)) {
      res
        .status(503)
        .type("text/plain")
        .send("The browser SDK bundle is not built: run `pnpm --filter @authplane/passkeys-browser generate`.");
      return;
    }
    res.sendFile(file, { headers: { "Cache-Control": "no-cache" } });
  });

  /**
   * Calls this service's server API on the very socket the request came in on. Deliberately not
   * the request's Host header: that is client-controlled, and following it would send the
   * secret key to whatever host an attacker names.
   */
  async function callServerApi(req: Request, res: Response, apiPath: string, body: unknown): Promise<void> {
    if (!secretKey) throw new AppError(503, "InternalError", NOT_CONFIGURED);
    const { localAddress, localPort } = req.socket;
    if (!localAddress || !localPort) throw new AppError(503, "InternalError", "The demo cannot reach its own server API.");
    const host = localAddress.includes(":") ? `[${localAddress}]` : localAddress;
    let upstream: globalThis.Response;
    try {
      upstream = await fetch(`http://${host}:${localPort}${apiPath}`, {
        method: "POST",
        headers: {
          "Content-Type": "application/json; charset=utf-8",
          Authorization: `Basic ${Buffer.from(`:${secretKey}`).toString("base64")}`,
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS),
      });
    } catch (err) {
      deps.logger.warn({ err: (err as Error).message, apiPath }, "demo backend could not reach the server API");
      throw new AppError(503, "InternalError", "The demo backend could not reach the server API.");
    }
    const text = await upstream.text();
    res.status(upstream.status).type("application/json").send(text);
  }

  router.post("/demo/backend/attach", async (req, res) => {
    const { token, username } = parseInput(AttachBody, req.body ?? {});
    // A real backend would use its own user id here; the demo's users are their usernames.
    await callServerApi(req, res, "/registration/attach", { token, user: { id: username, handle: username } });
  });

  router.post("/demo/backend/verify", async (req, res) => {
    const { token } = parseInput(VerifyBody, req.body ?? {});
    await callServerApi(req, res, "/auth/verify", { token });
  });

  router.use("/demo", express.static(DEMO_DIR, { index: "index.html", redirect: true }));
  return router;
}
