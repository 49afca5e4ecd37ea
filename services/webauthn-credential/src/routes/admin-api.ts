import { AdminPasskeyCredential, AdminPasskeyCredentialList, PasskeyStats } from "@authplane/contracts";
import { z } from "zod";
import { Errors } from "../errors.js";
import { changeCredentialActive } from "../usecases/set-credential-active.js";
import { getCredential } from "../usecases/get-credential.js";
import { decodeCursor, listCredentials } from "../usecases/list-credentials.js";
import { passkeyStats } from "../usecases/passkey-stats.js";
import { adminApi } from "./api.js";

/**
 * The Admin API (issue 14): the operator token with X-Organization-Id + X-Mode (the dashboard,
 * through the gateway), or the organization's secret key. Everything is scoped to that
 * organization and mode: another's credential is 404 exactly like an unknown one.
 */
const admin = { auth: "operatorToken", rateLimit: "adminIp" } as const;

/** A whole number in a query string, digits only (no sign, exponent, spaces or repeated parameter). */
const QueryInt = (min: number, max: number, fallback: number) =>
  z
    .string()
    .regex(/^[0-9]{1,4}$/, "must be a whole number")
    .optional()
    .transform((v) => (v === undefined ? fallback : Number(v)))
    .pipe(z.number().int().min(min).max(max));

/** Unknown query parameters are refused (strict): a misspelt filter must not answer every passkey. */
const ListQuery = z.strictObject({
  userId: z.string().min(1).max(255).optional().describe("Only this user's passkeys (the user.id given at attach)."),
  active: z.enum(["true", "false"]).optional().describe("Only active (true) or deactivated (false) passkeys."),
  limit: QueryInt(1, 100, 25).describe("Page size, 1–100 (default 25)."),
  cursor: z.string().max(200).optional().describe("`nextCursor` of the previous page."),
});

const CredentialParams = z.object({
  credentialId: z
    .string()
    .regex(/^ctl_[0-9A-Za-z]{1,64}$/, "must be a credential id (ctl_…)")
    .describe("The credential's id (ctl_…)."),
});

const StatsQuery = z.strictObject({ days: QueryInt(1, 90, 14).describe("Number of UTC days up to today, 1–90 (default 14).") });

const notFound = { 404: ["EntityNotFound"] } as const;

export const adminApiEndpoints = [
  adminApi.endpoint({
    ...admin,
    method: "get",
    path: "/api/v1/credentials",
    summary: "List the organization's passkeys, newest first",
    description: "Filter by `userId` and/or `active`; pages of `limit` with an opaque `cursor` (`nextCursor`, null on the last page).",
    query: ListQuery,
    responses: { 200: AdminPasskeyCredentialList },
    handler: (deps, { caller, query }) => {
      const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
      if (after === null) throw Errors.invalidInput("Invalid input. cursor: not a cursor this API gave out (use nextCursor).");
      return listCredentials(deps, {
        ...caller,
        userId: query.userId,
        active: query.active === undefined ? undefined : query.active === "true",
        limit: query.limit,
        after,
      });
    },
  }),
  adminApi.endpoint({
    ...admin,
    method: "get",
    path: "/api/v1/credentials/{credentialId}",
    summary: "One passkey",
    params: CredentialParams,
    responses: { 200: AdminPasskeyCredential },
    errors: notFound,
    handler: (deps, { caller, params }) => getCredential(deps, { ...caller, credentialId: params.credentialId }),
  }),
  adminApi.endpoint({
    ...admin,
    method: "post",
    path: "/api/v1/credentials/{credentialId}/deactivate",
    summary: "Deactivate a passkey (it cannot sign in until reactivated)",
    description:
      "Seed 003's `/credential/update` with `active: false`: events `credentials.v1.updated` and `credentials.v1.deactivated` when it was active; idempotent.",
    params: CredentialParams,
    responses: { 200: AdminPasskeyCredential },
    errors: notFound,
    handler: (deps, { caller, params }) => changeCredentialActive(deps, { ...caller, credentialId: params.credentialId, active: false }),
  }),
  adminApi.endpoint({
    ...admin,
    method: "post",
    path: "/api/v1/credentials/{credentialId}/reactivate",
    summary: "Reactivate a passkey",
    description: "Seed 003's `/credential/update` with `active: true`: event `credentials.v1.updated` when it was deactivated; idempotent.",
    params: CredentialParams,
    responses: { 200: AdminPasskeyCredential },
    errors: notFound,
    handler: (deps, { caller, params }) => changeCredentialActive(deps, { ...caller, credentialId: params.credentialId, active: true }),
  }),
  adminApi.endpoint({
    ...admin,
    method: "get",
    path: "/api/v1/stats/passkeys",
    summary: "Passkey registrations and sign-ins per UTC day; active passkeys and users with one",
    query: StatsQuery,
    responses: { 200: PasskeyStats },
    handler: (deps, { caller, query }) => passkeyStats(deps, { ...caller, days: query.days }),
  }),
];
