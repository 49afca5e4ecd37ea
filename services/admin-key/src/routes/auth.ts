import { createHash, timingSafeEqual } from "node:crypto";
import type { Mode } from "@authplane/contracts";
import type { NextFunction, Request, Response } from "express";
import type { AppDeps } from "../deps.js";
import { AdminErrors } from "../errors.js";
import { verifyApiKey } from "../usecases/verify-api-key.js";

export interface Caller {
  organizationId: string;
  mode: Mode;
  keyId: string;
}

const BEARER = /^Bearer[ \t]+(\S{1,512})[ \t]*$/i;

function bearerOf(req: Request): string | null {
  const header = req.headers.authorization;
  if (typeof header !== "string") return null;
  return BEARER.exec(header)?.[1] ?? null;
}

/**
 * Admin API authentication: `Authorization: Bearer sk_…`. Unknown, revoked and expired keys get
 * the seed's 401; a valid publishable key gets the seed's 403. The lookup is direct (admin-key
 * owns the keys), so a revocation applies to the very next request.
 */
export function requireSecretKey(deps: AppDeps) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const token = bearerOf(req);
    if (!token) throw AdminErrors.authenticationRequired();
    const verified = await verifyApiKey(deps.prisma, token);
    if (!verified) throw AdminErrors.authenticationRequired();
    if (verified.reply.kind !== "secret") throw AdminErrors.secretKeyRequired();
    await deps.limits.perKey.consume(verified.key.id);
    res.locals.caller = {
      organizationId: verified.reply.organizationId,
      mode: verified.reply.mode,
      keyId: verified.key.id,
    } satisfies Caller;
    next();
  };
}

export function callerOf(res: Response): Caller {
  return res.locals.caller as Caller;
}

/**
 * Operator API authentication. Both sides are hashed to a fixed length before a constant-time
 * compare, so neither the content nor the length of the token leaks through timing.
 */
export function requireOperator(deps: AppDeps) {
  const expected = createHash("sha256").update(deps.env.OPERATOR_TOKEN).digest();
  return async (req: Request, _res: Response, next: NextFunction) => {
    const token = bearerOf(req);
    const given = createHash("sha256")
      .update(token ?? "")
      .digest();
    if (!token || !timingSafeEqual(given, expected)) throw AdminErrors.authenticationRequired();
    await deps.limits.perKey.consume("operator");
    next();
  };
}
