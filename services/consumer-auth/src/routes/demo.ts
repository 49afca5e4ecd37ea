import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { demoPageFiles, SDK_BUNDLE_DOCS, sendSdkBundle } from "@authplane/service-kit";
import type { RequestHandler } from "express";
import { z } from "zod";
import { publicApi } from "./api.js";

/** Static page files: `services/consumer-auth/demo/` (same relative path from src/ and dist/). */
const DEMO_DIR = fileURLToPath(new URL("../../demo/", import.meta.url));
const DEMO = "/demo/consumer";

/** The browser SDK bundle built by `@authplane/consumer-browser`'s `generate` script. */
function sdkBundlePath(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve("@authplane/consumer-browser/package.json");
  return path.join(path.dirname(pkg), "dist", "consumer-browser.bundle.js");
}

/**
 * helmet's default CSP limits fetch() to this origin; the page may be pointed at the API on
 * another origin (to try CORS), so connect-src allows any http(s) origin. The rest stays 'self'.
 */
const demoCsp: RequestHandler = (_req, res, next) => {
  res.setHeader(
    "Content-Security-Policy",
    "default-src 'self'; connect-src 'self' http: https:; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; object-src 'none'",
  );
  next();
};

/**
 * The page's files (`/demo/consumer` redirects to `/demo/consumer/`; `demo.css` is the kit's shared one);
 * a file that is not there is the service's 404.
 */
const serveDemoFile = demoPageFiles(DEMO_DIR, DEMO);

const demo = { auth: "none", tags: ["Demo"], before: [demoCsp] } as const;

/**
 * The consumer demo: a page under /demo/consumer/ that walks guest -> OTP -> refresh -> logout
 * with `@authplane/consumer-browser`. Static files and the publishable key only (no secret, no
 * backend), mounted only when DEMO_ENABLED (never in production).
 */
export const demoEndpoints = [
  publicApi.endpoint({
    ...demo,
    method: "get",
    path: `${DEMO}/config`,
    summary: "The demo page's configuration: the publishable key it uses",
    responses: { 200: z.object({ publishableKey: z.string(), baseUrl: z.string() }) },
    handler: (deps, { res }) => {
      res.setHeader("Cache-Control", "no-store");
      // baseUrl "": the page calls the consumer API on its own origin (the gateway routes it here).
      return { publishableKey: deps.env.DEMO_PUBLISHABLE_KEY, baseUrl: "" };
    },
  }),
  publicApi.endpoint({
    ...demo,
    method: "get",
    path: `${DEMO}/sdk.js`,
    ...SDK_BUNDLE_DOCS,
    handler: (_deps, { res }) => sendSdkBundle(res, sdkBundlePath(), "run `pnpm --filter @authplane/consumer-browser generate`."),
  }),
  publicApi.endpoint({
    ...demo,
    method: "get",
    path: DEMO,
    summary: "The demo page (`/demo/consumer` redirects to `/demo/consumer/`)",
    responses: {
      200: { description: "The page.", contentType: "text/html" },
      301: { description: "Redirect to /demo/consumer/.", contentType: "text/html" },
    },
    handler: (_deps, { req, res }) => serveDemoFile(req, res),
  }),
  publicApi.endpoint({
    ...demo,
    method: "get",
    path: `${DEMO}/{*file}`,
    summary: "The demo page's files (page, script, style)",
    params: z.object({ file: z.array(z.string()).describe("Path of the file under /demo/consumer/.") }),
    responses: { 200: { description: "The file.", contentType: "*/*" } },
    errors: { 404: ["not_found"] },
    handler: (_deps, { req, res }) => serveDemoFile(req, res),
  }),
];
