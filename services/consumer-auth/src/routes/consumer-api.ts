import {
  ExternalAuthorizeRequest,
  ExternalAuthorizeResponse,
  ExternalExchangeRequest,
  IntrospectRequest,
  IntrospectResponse,
  RefreshRequest,
  RefreshResponse,
  SessionResponse,
} from "@authplane/contracts";
import { bearerToken, clientIp, SENT, type Sent } from "@authplane/service-kit";
import { z } from "zod";
import { ErrorCatalog } from "../errors.js";
import { revocationReadByGate } from "../limits/request-gate.js";
import { OtpIdentityInput, OtpVerifyBody } from "../otp/normalize-identity.js";
import { authorizeExternal } from "../usecases/authorize-external.js";
import { createGuestSession } from "../usecases/create-guest-session.js";
import { exchangeCode } from "../usecases/exchange-code.js";
import { checkAccessToken, introspectToken } from "../usecases/introspect-token.js";
import { refreshSession } from "../usecases/refresh-session.js";
import { requestOtp } from "../usecases/request-otp.js";
import { logout } from "../usecases/revoke-session.js";
import { verifyOtp } from "../usecases/verify-otp.js";
import { consumerApi, otpCodes } from "./api.js";
import { browserCorsEcho, browserPreflight } from "./cors.js";

/** Every consumer API route lives under this prefix (the JWKS aside). */
export const API_PREFIX = "/api/v1/auth";

/**
 * A route a customer's page calls (seed 000, publishable key or its access token): the actual
 * request's Origin is echoed first, so that 401/429/503 stay readable by the page, and checked
 * against the organization once its key is known; the preflight is answered before any limit (no
 * key, no state, nothing to protect). Not `/external/authorize` (secret key: server side only),
 * `/check` or `/introspect` (gateways): a browser's preflight for those gets no CORS headers.
 */
const browser = { before: [browserCorsEcho], preflight: browserPreflight } as const;

const Ok = z.object({ ok: z.literal(true) });

/** The consumer API's public endpoints (seed 000): pages, apps and the customer's server. */
export const publicEndpoints = [
  consumerApi.endpoint({
    ...browser,
    method: "post",
    path: `${API_PREFIX}/guest`,
    auth: "publishableKey",
    rateLimit: "publicIpAndKey",
    summary: "Start a guest session (a new guest consumer)",
    responses: { 200: SessionResponse },
    handler: (deps, { caller, req }) =>
      createGuestSession(deps, { key: caller.key, ip: clientIp(req), userAgent: req.headers["user-agent"] }),
  }),
  consumerApi.endpoint({
    ...browser,
    method: "post",
    path: `${API_PREFIX}/otp/request`,
    auth: "publishableKey",
    rateLimit: "publicIpAndKey",
    summary: "Send a one-time code to an email address or phone number",
    description: "The same answer whether or not the email/phone is known (no enumeration).",
    body: OtpIdentityInput,
    responses: { 200: Ok },
    errors: otpCodes.request,
    handler: (deps, { caller, body, req }) => requestOtp(deps, { key: caller.key, body, ip: clientIp(req) }),
  }),
  consumerApi.endpoint({
    ...browser,
    method: "post",
    path: `${API_PREFIX}/otp/verify`,
    auth: "publishableKey",
    rateLimit: "publicIpAndKey",
    summary: "Verify a one-time code: sign in (or upgrade the calling guest, with its access token as Bearer)",
    body: OtpVerifyBody,
    responses: { 200: SessionResponse },
    errors: otpCodes.verify,
    handler: (deps, { caller, body, req }) =>
      verifyOtp(deps, {
        key: caller.key,
        body,
        ip: clientIp(req),
        userAgent: req.headers["user-agent"],
        accessToken: bearerToken(req.headers.authorization),
      }),
  }),
  consumerApi.endpoint({
    method: "post",
    path: `${API_PREFIX}/external/authorize`,
    auth: "secretKey",
    rateLimit: "publicIp",
    summary: "Your server vouches for an external identity: a single-use exchange code for the client",
    body: ExternalAuthorizeRequest,
    responses: { 200: ExternalAuthorizeResponse },
    handler: (deps, { caller, body }) => authorizeExternal(deps, { key: caller.key, body }),
  }),
  consumerApi.endpoint({
    ...browser,
    method: "post",
    path: `${API_PREFIX}/external/exchange`,
    auth: "publishableKey",
    rateLimit: "publicIpAndKey",
    summary: "Exchange a code for a session (upgrading the calling guest, with its access token as Bearer)",
    body: ExternalExchangeRequest,
    responses: { 200: SessionResponse },
    errors: { 401: [ErrorCatalog.invalidExchangeCode.code, ErrorCatalog.invalidAccessToken.code, ErrorCatalog.keyMismatch.code] },
    handler: (deps, { caller, body, req }) =>
      exchangeCode(deps, {
        key: caller.key,
        exchangeCode: body.exchangeCode,
        accessToken: bearerToken(req.headers.authorization),
        ip: clientIp(req),
        userAgent: req.headers["user-agent"],
      }),
  }),
  consumerApi.endpoint({
    ...browser,
    method: "post",
    path: `${API_PREFIX}/refresh`,
    auth: "publishableKey",
    rateLimit: "publicIpAndKey",
    summary: "Rotate a refresh token: a new access and refresh token",
    body: RefreshRequest,
    responses: { 200: RefreshResponse },
    errors: {
      401: [
        ErrorCatalog.invalidRefreshToken.code,
        ErrorCatalog.refreshTokenExpired.code,
        ErrorCatalog.refreshTokenReused.code,
        ErrorCatalog.sessionRevoked.code,
        ErrorCatalog.sessionExpired.code,
      ],
    },
    handler: (deps, { caller, body }) => refreshSession(deps, { key: caller.key, refreshToken: body.refreshToken }),
  }),
  consumerApi.endpoint({
    ...browser,
    method: "post",
    path: `${API_PREFIX}/logout`,
    auth: "bearerAccessToken",
    rateLimit: "publicIp",
    summary: "End the access token's session (an expired token of a live session is accepted)",
    responses: { 204: { description: "The session is ended.", empty: true } },
    handler: async (deps, { caller, res }): Promise<Sent> => {
      await logout(deps, { sessionId: caller.claims.sessionId });
      res.status(204).end();
      return SENT;
    },
  }),
];

/** Gateway and internal-service endpoints: /introspect (keyed or internal) and /check (token + key, no Postgres). */
export const introspectEndpoint = consumerApi.endpoint({
  method: "post",
  path: `${API_PREFIX}/introspect`,
  auth: "internalToken",
  rateLimit: "gatewayIp",
  summary: "Is this access token live, for my organization and mode?",
  description:
    "`Bearer sk_…` answers for that key's organization and mode; `Bearer <INTERNAL_INTROSPECTION_TOKEN>` for those named in " +
    "`X-Organization-Id` + `X-Mode`. A token of another scope is `{active: false}`.",
  body: IntrospectRequest,
  responses: { 200: IntrospectResponse },
  handler: async (deps, { caller, body, res }) => {
    res.setHeader("Cache-Control", "no-store");
    return introspectToken(deps, { scope: caller.scope, token: body.token });
  },
});

export const checkEndpoint = consumerApi.endpoint({
  method: "get",
  path: `${API_PREFIX}/check`,
  auth: "internalToken",
  rateLimit: "check",
  summary: "Gateway check (nginx auth_request style): the consumer of a live access token, in headers",
  description:
    "`Authorization: Bearer <access token>` with the client's `X-Publishable-Key` (or `X-Internal-Token` + `X-Organization-Id` + `X-Mode`). " +
    "200 with X-Consumer-Id, X-Organization-Id, X-Session-Id and X-Mode, or 401. Local signature check and one Redis round trip.",
  responses: { 200: { description: "A live token of the caller's organization and mode: see the X- headers.", empty: true } },
  handler: async (deps, { caller, req, res }): Promise<Sent> => {
    const claims = await checkAccessToken(deps, {
      scope: caller.scope,
      token: bearerToken(req.headers.authorization),
      prefetched: revocationReadByGate(req),
    });
    res.setHeader("Cache-Control", "no-store");
    res.setHeader("X-Consumer-Id", claims.consumerId);
    res.setHeader("X-Organization-Id", claims.organizationId);
    res.setHeader("X-Session-Id", claims.sessionId);
    res.setHeader("X-Mode", claims.mode);
    res.status(200).end();
    return SENT;
  },
});

/** Every endpoint under API_PREFIX. */
export const consumerApiEndpoints = [...publicEndpoints, introspectEndpoint, checkEndpoint];
