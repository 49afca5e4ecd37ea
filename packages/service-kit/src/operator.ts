import { Mode, OrganizationId } from "@authplane/contracts";
import type { Request } from "express";
import { z } from "zod";
import { bearerToken, safeEqual } from "./secrets.js";

/**
 * The platform operator's token (OPERATOR_TOKEN), shared by every service that serves an operator
 * or admin endpoint: admin-key's operator API, and the admin endpoints of consumer-auth,
 * webauthn-credential and otp-delivery that the dashboard calls. One value for the whole platform.
 */

/** Development default of OPERATOR_TOKEN; refused in production. */
const DEV_OPERATOR_TOKEN = "dev-operator-token";

/** The env field; pair with `refineOperatorToken` (superRefine) and `withOperatorToken` (transform). */
export const operatorTokenEnv = {
  /**
   * Bearer token of the operator (all organizations). Required in production, at least 32
   * characters; outside production it defaults to `dev-operator-token`.
   */
  OPERATOR_TOKEN: z.string().optional(),
};

/** Production needs a real operator token (≥ 32 characters). */
export function refineOperatorToken(env: { NODE_ENV: string; OPERATOR_TOKEN?: string | undefined }, ctx: z.RefinementCtx): void {
  if (env.NODE_ENV === "production" && (env.OPERATOR_TOKEN === undefined || env.OPERATOR_TOKEN.length < 32)) {
    ctx.addIssue({
      code: "custom",
      path: ["OPERATOR_TOKEN"],
      message: "must be set to a random string of at least 32 characters in production",
    });
  }
}

/** The env with OPERATOR_TOKEN filled in (the development default outside production). */
export function withOperatorToken<T extends { OPERATOR_TOKEN?: string | undefined }>(
  env: T,
): Omit<T, "OPERATOR_TOKEN"> & { OPERATOR_TOKEN: string } {
  return { ...env, OPERATOR_TOKEN: env.OPERATOR_TOKEN ?? DEV_OPERATOR_TOKEN };
}

/** Does the request carry `Authorization: Bearer <OPERATOR_TOKEN>`? (constant time) */
export function hasOperatorToken(req: Request, operatorToken: string): boolean {
  const token = bearerToken(req.headers.authorization);
  return token !== null && safeEqual(token, operatorToken);
}

/** The organization and mode an operator call acts on. */
export interface OperatorScope {
  organizationId: OrganizationId;
  mode: Mode;
}

/**
 * The scope an operator names in `X-Organization-Id` + `X-Mode` (an operator is not bound to one
 * organization, so each admin call says which one it is about), or null when either is missing or
 * malformed. Read only after the token was proven.
 */
export function operatorNamedScope(req: Request): OperatorScope | null {
  const organizationId = OrganizationId.safeParse(req.headers["x-organization-id"]);
  const mode = Mode.safeParse(req.headers["x-mode"]);
  if (!organizationId.success || !mode.success) return null;
  return { organizationId: organizationId.data, mode: mode.data };
}
