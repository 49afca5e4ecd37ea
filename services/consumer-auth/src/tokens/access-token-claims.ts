import { IdPrefix, Mode } from "@authplane/contracts";
import { z } from "zod";

/** Claims of a consumer access token (see README "Token format"). */
export const AccessTokenClaims = z.object({
  consumerId: z.string().min(1),
  organizationId: z.string().min(1),
  sessionId: z.string().startsWith(IdPrefix.session),
  mode: Mode,
  sub: z.string().min(1),
  iss: z.string(),
  iat: z.number().int(),
  exp: z.number().int(),
  jti: z.string().optional(),
  /** `<organizationId>:<mode>` (see tokenAudience); absent only on tokens signed before it was added. */
  aud: z.string().optional(),
});
export type AccessTokenClaims = z.infer<typeof AccessTokenClaims>;

/**
 * The `aud` of an access token: `<organizationId>:<mode>`. A verifier holding the JWKS binds a token
 * to its own organization and mode with `jwtVerify(…, { audience: "org_…:live" })`.
 */
export function tokenAudience(claims: { organizationId: string; mode: Mode }): string {
  return `${claims.organizationId}:${claims.mode}`;
}
