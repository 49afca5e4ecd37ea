import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import express, { Router } from "express";
import type { AppDeps } from "../deps.js";

/** Static page files: `services/consumer-auth/demo/` (same relative path from src/ and dist/). */
const DEMO_DIR = fileURLToPath(new URL("../../demo/", import.meta.url));

/** The browser SDK bundle built by `@authplane/consumer-browser`'s `generate` script. */
function sdkBundlePath(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve("@authplane/consumer-browser/package.json");
  return path.join(path.dirname(pkg), "dist", "consumer-browser.bundle.js");
}

/**
 * The consumer demo: a page under /demo/consumer/ that walks guest -> OTP -> refresh -> logout
 * with `@authplane/consumer-browser`. Static files and the publishable key only (no secret, no
 * backend), mounted only when DEMO_ENABLED (never in production).
 */
export function demoRouter(deps: AppDeps): Router {
  const router = Router();
  const publishableKey = deps.env.DEMO_PUBLISHABLE_KEY;

  // helmet's default CSP limits fetch() to this origin; the page may be pointed at the API on
  // another origin (to try CORS), so connect-src allows any http(s) origin. The rest stays 'self'.
  router.use("/demo/consumer", (_req, res, next) => {
    res.setHeader(
      "Content-Security-Policy",
      "default-src 'self'; connect-src 'self' http: https:; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; object-src 'none'",
    );
    next();
  });

  router.get("/demo/consumer/config", (_req, res) => {
    res.setHeader("Cache-Control", "no-store");
    // baseUrl "": the page calls the consumer API on its own origin (the gateway routes it here).
    res.json({ publishableKey, baseUrl: "" });
  });

  router.get("/demo/consumer/sdk.js", (_req, res) => {
    const file = sdkBundlePath();
    if (!existsSync(file)) {
      res
        .status(503)
        .type("text/plain")
        .send("The browser SDK bundle is not built: run `pnpm --filter @authplane/consumer-browser generate`.");
      return;
    }
    res.sendFile(file, { headers: { "Cache-Control": "no-cache" } });
  });

  router.use("/demo/consumer", express.static(DEMO_DIR, { index: "index.html", redirect: true }));
  return router;
}
