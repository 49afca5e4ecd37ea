import {
  AssertionOptionsRequest,
  AssertionOptionsResult,
  AssertionProcessRequest,
  AttestationOptionsRequest,
  AttestationOptionsResult,
  AttestationProcessRequest,
  OneTimeTokenResult,
} from "@authplane/contracts";
import { finishAuthentication } from "../usecases/finish-authentication.js";
import { finishRegistration } from "../usecases/finish-registration.js";
import { startAuthentication } from "../usecases/start-authentication.js";
import { startRegistration } from "../usecases/start-registration.js";
import { passkeyApi } from "./api.js";
import { corsEcho, corsPreflight } from "./cors.js";

/**
 * The client API (browser/mobile SDKs, publishable key), at the service root. CORS: the echo runs
 * first (so early errors are readable), the preflight answers OPTIONS, and the publishable-key
 * authenticator enforces the organization's origins.
 */
const client = {
  auth: "publishableKey",
  rateLimit: "clientIp",
  before: [corsEcho],
  preflight: corsPreflight,
  tags: ["Passkeys: client API"],
} as const;

export const clientApiEndpoints = [
  passkeyApi.endpoint({
    ...client,
    method: "post",
    path: "/attestation/options",
    summary: "Start a registration: WebAuthn creation options",
    description:
      "excludeCredentials holds decoys for a named user (never the user's real passkeys); `upgrade: true` asks for conditional create.",
    body: AttestationOptionsRequest,
    responses: { 200: AttestationOptionsResult },
    handler: (deps, { caller, body }) => startRegistration(deps, { ...caller, ...body }),
  }),
  passkeyApi.endpoint({
    ...client,
    method: "post",
    path: "/attestation/process",
    summary: "Finish a registration: a single-use registration token (rtn_) for your backend to attach",
    body: AttestationProcessRequest,
    responses: { 200: OneTimeTokenResult },
    errors: { 400: ["TokenExpired", "MalformedAuthenticationData"], 403: ["PermissionViolation"] },
    handler: (deps, { caller, body }) => finishRegistration(deps, { ...caller, ...body }),
  }),
  passkeyApi.endpoint({
    ...client,
    method: "post",
    path: "/assertion/options",
    summary: "Start a sign-in: WebAuthn request options",
    description: "`{user: {username}}`, `{user: {id}}` or `{}` (autofill, mediation conditional). A user without passkeys gets decoys.",
    body: AssertionOptionsRequest,
    responses: { 200: AssertionOptionsResult },
    handler: (deps, { caller, body }) => startAuthentication(deps, { ...caller, ...body }),
  }),
  passkeyApi.endpoint({
    ...client,
    method: "post",
    path: "/assertion/process",
    summary: "Finish a sign-in: a single-use authentication token (atn_) for your backend to verify",
    body: AssertionProcessRequest,
    responses: { 200: OneTimeTokenResult },
    errors: {
      400: ["TokenExpired", "MalformedAuthenticationData", "AuthenticatingUserAccountNotFound"],
      403: ["UsingDeactivatedCredential", "PermissionViolation"],
    },
    handler: (deps, { caller, body }) => finishAuthentication(deps, { ...caller, ...body }),
  }),
];
