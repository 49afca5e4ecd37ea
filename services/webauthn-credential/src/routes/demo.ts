import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AppError, demoPageFiles, SENT, type Sent, SDK_BUNDLE_DOCS, sendSdkBundle } from "@authplane/service-kit";
import { PasskeyError } from "@authplane/contracts";
import type { Request, Response } from "express";
import { z } from "zod";
import type { AppDeps } from "../deps.js";
import { demoApi } from "./api.js";

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
 * Calls this service's server API on the very socket the request came in on. Deliberately not
 * the request's Host header: that is client-controlled, and following it would send the
 * secret key to whatever host an attacker names.
 */
async function callServerApi(deps: AppDeps, req: Request, res: Response, apiPath: string, body: unknown): Promise<Sent> {
  const secretKey = deps.env.DEMO_SECRET_KEY;
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
  return SENT;
}

/**
 * The page's files (`/demo` redirects to `/demo/`; `demo.css` is the kit's shared one); a file
 * that is not there is the service's 404 — no-store, as before the conversion, when a miss fell
 * through to the no-store API routes.
 */
const serveDemoFile = demoPageFiles(DEMO_DIR, "/demo", (res) => {
  res.setHeader("Cache-Control", "no-store");
  res.setHeader("Pragma", "no-cache");
});

/** A relayed server-API answer (wrapped `{result, errors}`), with the server API's status. */
const Relayed = {
  raw: true,
  description: "The server API's answer, relayed verbatim.",
  schema: z.object({ result: z.unknown(), errors: z.array(PasskeyError) }),
};
const relayedErrors = {
  400: [
    "InvalidInput",
    "TokenNotFound",
    "TokenExpired",
    "UsernameCannotChange",
    "InvalidAuthorizationHeader",
    "SecretKeyNotFound",
    "SecretKeyExpired",
  ],
  403: ["PermissionViolation"],
  409: ["InvalidInput", "UsernameInUseByDifferentAccount"],
  429: ["TooManyRequests"],
} as const;

const demo = { auth: "none", tags: ["Demo"] } as const;

/**
 * The passkey demo: a page under /demo/ that uses the browser SDK against this service's client
 * API, and two endpoints that play "the customer's server" by calling this service's own server
 * API over HTTP with the secret key, returning its answer verbatim so the page can show it.
 *
 * Only mounted when DEMO_ENABLED (off in production by default): the backend endpoints attach
 * passkeys to whatever username they are given, exactly what a real backend must NOT do without
 * its own sign-in; that is acceptable for a test organization on a developer machine only.
 */
export const demoEndpoints = [
  demoApi.endpoint({
    ...demo,
    method: "get",
    path: "/demo/config",
    summary: "The demo page's configuration: the test organization's publishable key (never the secret key)",
    responses: {
      200: z.union([
        z.object({ configured: z.literal(true), publishableKey: z.string(), baseUrl: z.string() }),
        z.object({ configured: z.literal(false), message: z.string() }),
      ]),
    },
    handler: (deps, { res }) => {
      const { DEMO_PUBLISHABLE_KEY: publishableKey, DEMO_SECRET_KEY: secretKey } = deps.env;
      res.setHeader("Cache-Control", "no-store");
      // baseUrl "": the page calls the client API on its own origin (the gateway routes it here).
      return publishableKey && secretKey
        ? { configured: true as const, publishableKey, baseUrl: "" }
        : { configured: false as const, message: NOT_CONFIGURED };
    },
  }),
  demoApi.endpoint({
    ...demo,
    method: "get",
    path: "/demo/sdk.js",
    ...SDK_BUNDLE_DOCS,
    handler: (_deps, { res }) => sendSdkBundle(res, sdkBundlePath(), "run `pnpm --filter @authplane/passkeys-browser generate`."),
  }),
  demoApi.endpoint({
    ...demo,
    method: "post",
    path: "/demo/backend/attach",
    summary: "Demo backend: attach a registration token to a username (calls /registration/attach)",
    description: "A real backend would use its own user id; the demo's users are their usernames.",
    body: AttachBody,
    responses: { 200: Relayed },
    errors: relayedErrors,
    handler: (deps, { body, req, res }) =>
      callServerApi(deps, req, res, "/registration/attach", { token: body.token, user: { id: body.username, handle: body.username } }),
  }),
  demoApi.endpoint({
    ...demo,
    method: "post",
    path: "/demo/backend/verify",
    summary: "Demo backend: verify an authentication token (calls /auth/verify)",
    body: VerifyBody,
    responses: { 200: Relayed },
    errors: relayedErrors,
    handler: (deps, { body, req, res }) => callServerApi(deps, req, res, "/auth/verify", { token: body.token }),
  }),
  demoApi.endpoint({
    ...demo,
    method: "get",
    path: "/demo",
    summary: "The demo page (`/demo` redirects to `/demo/`)",
    responses: {
      200: { description: "The page.", contentType: "text/html" },
      301: { description: "Redirect to /demo/.", contentType: "text/html" },
    },
    handler: (_deps, { req, res }) => serveDemoFile(req, res),
  }),
  demoApi.endpoint({
    ...demo,
    method: "get",
    path: "/demo/{*file}",
    summary: "The demo page's files (script, style)",
    params: z.object({ file: z.array(z.string()).describe("Path of the file under /demo/.") }),
    responses: { 200: { description: "The file.", contentType: "*/*" } },
    errors: { 404: ["EntityNotFound"] },
    handler: (_deps, { req, res }) => serveDemoFile(req, res),
  }),
];
