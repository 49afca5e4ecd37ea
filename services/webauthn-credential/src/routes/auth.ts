import { fromPasskeySdkSecret, parseApiKeyPrefix } from "@authplane/contracts";
import { createHash } from "node:crypto";
import {
  type Authenticators,
  clientIpGroup,
  hasOperatorToken,
  KeyBudget,
  type LimitImpl,
  operatorNamedScope,
  RateLimit,
} from "@authplane/service-kit";
import type { Request } from "express";
import type { AppDeps } from "../deps.js";
import { Errors } from "../errors.js";
import { relyingPartyOf, type Scope } from "../scope.js";
import type { PasskeyApiShape } from "./api.js";
import { enforceOrigin } from "./cors.js";

/**
 * The passkey APIs' authenticators (the endpoint builder calls the one of an endpoint's auth kind;
 * its result is the handler's typed `caller`):
 * - `publishableKey` (client API): the key, then the organization's relying party (403
 *   PermissionViolation without one), then the request's Origin against its origins (CORS);
 * - `passkeyBasic` (server API): the secret key;
 * - `operatorToken` (Admin API): HTTP Basic is the secret key (exactly as the server API: its
 *   organization and mode are the scope; X-Organization-Id/X-Mode are not read); otherwise
 *   `Bearer <OPERATOR_TOKEN>` (constant-time compare) and then the organization and mode it names
 *   in `X-Organization-Id` + `X-Mode` (400 InvalidInput when missing or malformed). Anything else,
 *   a wrong token included, is 401.
 */
export function passkeyAuthenticators(deps: AppDeps): Authenticators<PasskeyApiShape> {
  const publishable = keyAuthenticator(deps, "publishable");
  const secret = keyAuthenticator(deps, "secret");
  return {
    publishableKey: async (req, res) => {
      const scope = await publishable(req);
      enforceOrigin(req, res, scope);
      const rp = relyingPartyOf(scope);
      if (!rp) throw Errors.noRelyingParty();
      return { scope, rp };
    },
    passkeyBasic: async (req) => ({ scope: await secret(req) }),
    operatorToken: async (req) => {
      if (typeof req.headers.authorization === "string" && /^Basic\s/i.test(req.headers.authorization)) {
        const scope = await secret(req);
        return { scope: { organizationId: scope.organizationId, mode: scope.mode }, actor: "secretKey" };
      }
      if (!hasOperatorToken(req, deps.env.OPERATOR_TOKEN)) throw Errors.adminUnauthorized();
      const named = operatorNamedScope(req);
      if (!named)
        throw Errors.invalidInput(
          "With the operator token, X-Organization-Id (org_…) and X-Mode (live or test) name the organization and mode.",
        );
      return { scope: named, actor: "operator" };
    },
  };
}

/**
 * Per client IP group limits, taken before any key lookup (behind the gateway the IP comes from
 * its trusted X-Forwarded-For; IPv6 grouped by RATE_LIMIT_IPV6_PREFIX). `clientIp`: the client API
 * (RATE_LIMIT_IP_PER_MINUTE); `serverIp`: the server API (RATE_LIMIT_SERVER_IP_PER_MINUTE);
 * `adminIp`: the Admin API (RATE_LIMIT_ADMIN_IP_PER_MINUTE).
 */
export function passkeyLimits(deps: AppDeps): Record<PasskeyApiShape["limits"], LimitImpl> {
  const perIp = (name: "client" | "server" | "admin", points: number): LimitImpl => ({
    limit: new RateLimit(deps.redis, { name: `ip:${name}`, points, durationSeconds: 60 }, "TooManyRequests"),
    key: (req) => clientIpGroup(req, deps.env.RATE_LIMIT_IPV6_PREFIX),
  });
  return {
    clientIp: perIp("client", deps.env.RATE_LIMIT_IP_PER_MINUTE),
    serverIp: perIp("server", deps.env.RATE_LIMIT_SERVER_IP_PER_MINUTE),
    adminIp: perIp("admin", deps.env.RATE_LIMIT_ADMIN_IP_PER_MINUTE),
  };
}

/** Decodes `Authorization: Basic base64(user:pass)`; null when absent or unreadable. */
function basicCredentials(req: Request): { user: string; pass: string } | null {
  const header = req.headers.authorization;
  if (typeof header !== "string") return null;
  const m = /^Basic\s+([A-Za-z0-9+/=_-]{1,400})\s*$/i.exec(header);
  if (!m?.[1]) return null;
  const decoded = Buffer.from(m[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return null;
  return { user: decoded.slice(0, colon), pass: decoded.slice(colon + 1) };
}

/**
 * Authenticates a request by API key. `publishable`: the client API, `Basic base64(pk + ":")`.
 * `secret`: the server API, `Basic base64(":" + sk)` (seed 003), where the key may also come in
 * the passkey SDKs' form `secret_sk_…` (the same key; the prefix is stripped before verifying).
 * Every key problem is a 400 (seed 003) with the code the SDKs know: InvalidAuthorizationHeader
 * (missing/unreadable header, not a key, the wrong kind of key), SecretKeyExpired (a rotated key
 * past its expiry), SecretKeyNotFound (unknown or revoked), PublishableKeyNotFound. The key itself
 * is never logged. The key's budget is taken before the key is looked up, keyed by a hash of the
 * key (never its value): a secret key's own bucket (RATE_LIMIT_KEY_PER_MINUTE); a publishable
 * key's bucket per (key, client IP group) under a key-wide ceiling set far above it, so that a few
 * clients cannot exhaust the organization's sign-ins.
 */
function keyAuthenticator(deps: AppDeps, kind: "publishable" | "secret"): (req: Request) => Promise<Scope> {
  const secretBudget = new RateLimit(
    deps.redis,
    { name: `key:${kind}`, points: deps.env.RATE_LIMIT_KEY_PER_MINUTE, durationSeconds: 60 },
    "TooManyRequests",
  );
  const publishableBudget = new KeyBudget(
    deps.redis,
    {
      name: "pk",
      perClientPoints: deps.env.RATE_LIMIT_PUBLISHABLE_KEY_CLIENT_PER_MINUTE,
      keyPoints: deps.env.RATE_LIMIT_PUBLISHABLE_KEY_PER_MINUTE,
      durationSeconds: 60,
    },
    "TooManyRequests",
  );
  return async (req: Request) => {
    const creds = basicCredentials(req);
    if (!creds) throw Errors.invalidAuthorizationHeader(missingMessage(kind));
    // Accept the key in the documented slot; a key in the other slot is a caller mix-up.
    const sent = kind === "publishable" ? creds.user || creds.pass : creds.pass || creds.user;
    const key = kind === "secret" ? fromPasskeySdkSecret(sent) : sent;
    const claimed = key.length <= 200 ? parseApiKeyPrefix(key) : null;
    if (!claimed) throw Errors.invalidAuthorizationHeader(missingMessage(kind));
    if (claimed.kind !== kind) {
      throw Errors.invalidAuthorizationHeader(
        kind === "secret"
          ? "The server API requires a secret key (sk_… or secret_sk_…) as the Basic password; a publishable key is not accepted."
          : "The client API takes the publishable key (pk_…); never send a secret key to a browser or app.",
      );
    }
    const hash = createHash("sha256").update(key).digest("base64url").slice(0, 32);
    if (kind === "publishable") await publishableBudget.consume(hash, clientIpGroup(req, deps.env.RATE_LIMIT_IPV6_PREFIX));
    else await secretBudget.consume(hash);
    const checked = await deps.keys.check(key);
    if (!checked.ok || checked.key.kind !== kind) {
      const reason = checked.ok ? "not_found" : checked.reason;
      throw kind === "secret" ? Errors.secretKey(reason) : Errors.publishableKey(reason);
    }
    const verified = checked.key;
    return {
      organizationId: verified.organizationId,
      mode: verified.mode,
      keyId: verified.keyId,
      settings: verified.settings,
    };
  };
}

function missingMessage(kind: "publishable" | "secret"): string {
  return kind === "secret"
    ? "Authentication required: HTTP Basic with a blank username and the secret key (sk_… or secret_sk_…) as the password."
    : "Authentication required: HTTP Basic with the publishable key as the username and a blank password.";
}
