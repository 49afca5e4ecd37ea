import {
  AttachRegistrationRequest,
  AttachRegistrationResult,
  FindCredentialsRequest,
  FindCredentialsResult,
  PasskeyCredential,
  UpdateCredentialRequest,
  VerifyAuthTokenRequest,
  VerifyAuthTokenResult,
} from "@authplane/contracts";
import { attachRegistration } from "../usecases/attach-registration.js";
import { findCredentials } from "../usecases/find-credentials.js";
import { updateCredential } from "../usecases/update-credential.js";
import { verifyAuthToken } from "../usecases/verify-auth-token.js";
import { passkeyApi } from "./api.js";

/** The server API of seed 003 (secret key as the Basic password), at the service root. */
const server = { auth: "passkeyBasic", rateLimit: "serverIp", tags: ["Passkeys: server API"] } as const;

const attachErrors = {
  400: ["TokenNotFound", "TokenExpired", "UsernameCannotChange"],
  403: ["PermissionViolation"],
  409: ["InvalidInput", "UsernameInUseByDifferentAccount"],
} as const;

export const serverApiEndpoints = [
  passkeyApi.endpoint({
    ...server,
    method: "post",
    path: "/registration/attach",
    summary: "Attach a registration token's passkey to your user",
    body: AttachRegistrationRequest,
    responses: { 200: AttachRegistrationResult },
    errors: attachErrors,
    handler: async (deps, { caller, body }) => ({ id: (await attachRegistration(deps, { ...caller, ...body })).id }),
  }),
  passkeyApi.endpoint({
    ...server,
    method: "post",
    path: "/credential/create",
    summary: "Attach a registration token's passkey to your user; answers the credential object",
    body: AttachRegistrationRequest,
    responses: { 200: PasskeyCredential },
    errors: attachErrors,
    handler: (deps, { caller, body }) => attachRegistration(deps, { ...caller, ...body }),
  }),
  passkeyApi.endpoint({
    ...server,
    method: "post",
    path: "/auth/verify",
    summary: "Spend an authentication token: who signed in, with which passkey",
    body: VerifyAuthTokenRequest,
    responses: { 200: VerifyAuthTokenResult },
    errors: { 400: ["TokenNotFound", "TokenExpired"], 403: ["PermissionViolation"] },
    handler: (deps, { caller, body }) => verifyAuthToken(deps, { ...caller, ...body }),
  }),
  passkeyApi.endpoint({
    ...server,
    method: "post",
    path: "/credential/update",
    summary: "Deactivate or reactivate a passkey",
    body: UpdateCredentialRequest,
    responses: { 200: PasskeyCredential },
    errors: { 403: ["PermissionViolation"], 404: ["EntityNotFound"] },
    handler: (deps, { caller, body }) => updateCredential(deps, { ...caller, ...body }),
  }),
  passkeyApi.endpoint({
    ...server,
    method: "post",
    path: "/credential/find",
    summary: "A user's passkeys (by user.id or user.handle), oldest first",
    body: FindCredentialsRequest,
    responses: { 200: FindCredentialsResult },
    handler: (deps, { caller, body }) => findCredentials(deps, { ...caller, ...body }),
  }),
];
