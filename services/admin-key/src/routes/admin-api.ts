import {
  CreateApiKeyRequest,
  IssuedApiKeyResponse,
  ListApiKeysResponse,
  RevokeApiKeyResponse,
  RotateApiKeyRequest,
  SettingsResponse,
  UpdateSettingsRequest,
} from "@authplane/contracts";
import { z } from "zod";
import { Errors } from "../errors.js";
import { createApiKey, listApiKeys, revokeApiKey, rotateApiKey } from "../usecases/manage-api-keys.js";
import { getSettings, updateSettings } from "../usecases/update-settings.js";
import { adminApi, pathId } from "./api.js";

/**
 * The organization's Admin API (`Authorization: Bearer sk_…`): its keys and settings, in the
 * caller key's mode only (a test key sees and changes test keys and settings only).
 */
const admin = { auth: "secretKey", rateLimit: "ip", tags: ["Admin API"] } as const;

const KeyParams = z.object({
  id: pathId(z.string().regex(/^key_[0-9A-HJKMNP-TV-Z]{26}$/), Errors.keyNotFound, "The key's id (key_…); another string is a 404."),
});

export const adminApiEndpoints = [
  adminApi.endpoint({
    ...admin,
    method: "get",
    path: "/api/v1/keys",
    summary: "The organization's keys of the caller's mode (never their values)",
    responses: { 200: ListApiKeysResponse },
    handler: async (deps, { caller }) => ({ keys: await listApiKeys(deps, caller.scope) }),
  }),
  adminApi.endpoint({
    ...admin,
    method: "post",
    path: "/api/v1/keys",
    summary: "Create a key of the caller's mode (its value is shown once)",
    body: CreateApiKeyRequest,
    responses: { 201: IssuedApiKeyResponse },
    handler: (deps, { caller, body }) => createApiKey(deps, { ...caller.scope, kind: body.kind }),
  }),
  adminApi.endpoint({
    ...admin,
    method: "post",
    path: "/api/v1/keys/{id}/rotate",
    summary: "Issue a replacement key; the old one keeps working for `expiresInSeconds`",
    params: KeyParams,
    body: RotateApiKeyRequest,
    responses: { 201: IssuedApiKeyResponse },
    errors: { 404: ["key_not_found"], 409: ["key_not_active"] },
    handler: (deps, { caller, params, body }) => rotateApiKey(deps, { ...caller.scope, keyId: params.id, ...body }),
  }),
  adminApi.endpoint({
    ...admin,
    method: "post",
    path: "/api/v1/keys/{id}/revoke",
    summary: "Revoke a key at once (revoking a revoked key changes nothing)",
    params: KeyParams,
    responses: { 200: RevokeApiKeyResponse },
    errors: { 404: ["key_not_found"] },
    handler: async (deps, { caller, params }) => ({ key: await revokeApiKey(deps, { ...caller.scope, keyId: params.id }) }),
  }),
  adminApi.endpoint({
    ...admin,
    method: "get",
    path: "/api/v1/organizations/current/settings",
    summary: "The settings of the caller key's organization and mode",
    responses: { 200: SettingsResponse },
    errors: { 404: ["organization_not_found"] },
    handler: async (deps, { caller }) => ({ settings: await getSettings(deps, caller.scope) }),
  }),
  adminApi.endpoint({
    ...admin,
    method: "patch",
    path: "/api/v1/organizations/current/settings",
    summary: "Change the settings of the caller key's organization and mode",
    body: UpdateSettingsRequest,
    responses: { 200: SettingsResponse },
    errors: { 404: ["organization_not_found"] },
    handler: async (deps, { caller, body }) => ({ settings: await updateSettings(deps, { ...caller.scope, patch: body }) }),
  }),
];
