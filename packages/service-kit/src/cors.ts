import type { NextFunction, Request, RequestHandler, Response } from "express";

/**
 * CORS for APIs called from customers' pages with a publishable key, where the organization (and
 * so its allowed origins) is known only once the key of the actual request has been verified.
 *
 * - The preflight (OPTIONS) carries no credentials, so it cannot be answered per organization: it
 *   is answered for any Origin, for the listed methods and headers only, never with credentials.
 * - The actual request first echoes its Origin (`corsEcho`), so that errors raised before the
 *   organization is known (bad key, 429, 503) are readable by the SDK; they say nothing about
 *   any organization. Once the key is verified the service checks the Origin against the
 *   organization's list and, if it is not there, calls `refuseOrigin` (no
 *   Access-Control-Allow-Origin) and answers an error: a foreign page can neither use the API nor
 *   read the answer.
 * - `Access-Control-Allow-Credentials` is never sent: the APIs authenticate with headers, not
 *   cookies, so a page cannot ride on a user's ambient credentials.
 */
export interface CorsOptions {
  /** e.g. ["POST"] (OPTIONS is implied). */
  methods: readonly string[];
  /** Request headers a page may send, e.g. ["X-Publishable-Key", "Authorization", "Content-Type"]. */
  allowedHeaders: readonly string[];
  /** Response headers a page may read besides the CORS-safelisted ones, e.g. ["Retry-After"]. */
  exposedHeaders?: readonly string[];
  /** How long a browser may cache the preflight (seconds; Chromium caps it at 7200). */
  maxAgeSeconds?: number;
}

/** Answers a preflight: 204, generic for every Origin (see above). */
export function corsPreflight(opts: CorsOptions): RequestHandler {
  const methods = [...new Set([...opts.methods, "OPTIONS"])].join(", ");
  const headers = opts.allowedHeaders.join(", ");
  const maxAge = String(opts.maxAgeSeconds ?? 600);
  return (req: Request, res: Response) => {
    const origin = req.headers.origin;
    res.setHeader("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
    if (typeof origin === "string") {
      res.setHeader("Access-Control-Allow-Origin", origin);
      res.setHeader("Access-Control-Allow-Methods", methods);
      res.setHeader("Access-Control-Allow-Headers", headers);
      res.setHeader("Access-Control-Max-Age", maxAge);
    }
    res.status(204).end();
  };
}

/** Before authentication: lets the page read early errors (see above). */
export function corsEcho(opts: Pick<CorsOptions, "exposedHeaders"> = {}): RequestHandler {
  const exposed = opts.exposedHeaders?.join(", ");
  return (req: Request, res: Response, next: NextFunction) => {
    const origin = req.headers.origin;
    res.setHeader("Vary", "Origin");
    if (typeof origin === "string") {
      res.setHeader("Access-Control-Allow-Origin", origin);
      if (exposed) res.setHeader("Access-Control-Expose-Headers", exposed);
    }
    next();
  };
}

/** Takes back what `corsEcho` allowed: the browser will not let the page read this answer. */
export function refuseOrigin(res: Response): void {
  res.removeHeader("Access-Control-Allow-Origin");
  res.removeHeader("Access-Control-Expose-Headers");
}

/**
 * The Origin a cross-origin check applies to, or null. Null when there is no Origin (servers,
 * native apps: CORS is a browser mechanism, and they could send any Origin anyway) and for a
 * browser's same-origin request (`Sec-Fetch-Site: same-origin`, a header pages cannot set), i.e.
 * a page served by the API's own host, which CORS never restricts.
 */
export function crossOrigin(req: Request): string | null {
  const origin = req.headers.origin;
  if (typeof origin !== "string") return null;
  if (req.headers["sec-fetch-site"] === "same-origin") return null;
  return origin;
}
