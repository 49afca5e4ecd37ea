import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import express, { type Request, type Response } from "express";
import { SENT, type Sent } from "./endpoint.js";
import { AppError } from "./errors.js";

/** Files every demo page shares (`demo.css`): `packages/service-kit/assets/demo/` (same relative path from src/ and dist/). */
const SHARED_DEMO_DIR = fileURLToPath(new URL("../assets/demo/", import.meta.url));
const sharedStatic = express.static(SHARED_DEMO_DIR, { index: false, redirect: false });

/**
 * A demo page's static files as an endpoint handler: `dir` served by Express's static server as
 * if it were mounted at `mount` (so `/demo` redirects to `/demo/`), then the files all demo pages
 * share (`demo.css`); a file in neither is the service's 404 (`onMiss` may set headers first).
 */
export function demoPageFiles(
  dir: string,
  mount: string,
  onMiss?: (res: Response) => void,
): (req: Request, res: Response) => Promise<Sent> {
  const own = express.static(dir, { index: "index.html", redirect: true });
  return (req, res) =>
    new Promise((resolve, reject) => {
      const original = req.url;
      req.url = original.slice(mount.length) || "/";
      res.once("finish", () => resolve(SENT));
      res.once("close", () => resolve(SENT));
      const miss = (err?: unknown) => {
        req.url = original;
        onMiss?.(res);
        reject(err ?? new AppError(404, "not_found", "No such endpoint."));
      };
      own(req, res, (err?: unknown) => (err ? miss(err) : sharedStatic(req, res, miss)));
    });
}

/**
 * Sends a browser SDK bundle (ESM) a demo page imports, or 503 with `buildHint` when the bundle
 * is not built.
 */
export function sendSdkBundle(res: Response, file: string, buildHint: string): Promise<Sent> | Sent {
  if (!existsSync(file)) {
    res.status(503).type("text/plain").send(`The browser SDK bundle is not built: ${buildHint}`);
    return SENT;
  }
  return new Promise<Sent>((resolve, reject) => {
    res.sendFile(file, { headers: { "Cache-Control": "no-cache" } }, (err) => (err ? reject(err) : resolve(SENT)));
  });
}

/** The docs of a demo page's SDK bundle endpoint (its handler is `sendSdkBundle`). */
export const SDK_BUNDLE_DOCS = {
  summary: "The browser SDK bundle (ESM) the demo page imports",
  responses: {
    200: { description: "The bundle.", contentType: "text/javascript" },
    503: { description: "The bundle is not built.", contentType: "text/plain" },
  },
} as const;
