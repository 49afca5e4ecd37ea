import { z } from "zod";
import { publicApi } from "./api.js";

/** A public key of the JWKS (RFC 7517; Ed25519 `OKP` keys). */
const Jwk = z.looseObject({ kty: z.string(), kid: z.string().optional() });

/** GET /.well-known/jwks.json: every public key whose tokens may still be alive. */
export const jwksEndpoint = publicApi.endpoint({
  method: "get",
  path: "/.well-known/jwks.json",
  auth: "none",
  tags: ["Tokens"],
  summary: "The public keys access tokens are signed with (JWKS)",
  description:
    "A rotated-in key is listed longer than the cache time before it signs, and retired keys stay listed until their last token expired.",
  responses: { 200: z.object({ keys: z.array(Jwk) }) },
  handler: (deps, { res }) => {
    // A rotated-in key is listed here longer than this before it signs (signingKeyActivationDelaySeconds),
    // and retired keys stay listed until their last token expired, so a cache never misses a live kid.
    res.setHeader("Cache-Control", `public, max-age=${deps.env.JWKS_MAX_AGE_SECONDS}`);
    return deps.tokens.jwks() as { keys: Array<z.input<typeof Jwk>> };
  },
});
