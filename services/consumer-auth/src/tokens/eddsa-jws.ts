import { type KeyObject, sign } from "node:crypto";

/**
 * Compact JWS (RFC 7515) signed with Ed25519 ("EdDSA", RFC 8037) through node:crypto. The output is
 * an ordinary JWT that jose's `jwtVerify` and any JWKS consumer verify (test/tokens.test.ts,
 * test/signing-keys.test.ts verify every issued token with jose). Used instead of jose's `SignJWT`
 * on the hot path: jose signs through WebCrypto, an asynchronous job per token plus header
 * re-validation, about a fifth of the CPU of a guest request; `crypto.sign` on a cached
 * KeyObject is one synchronous call.
 */
export class EdDsaJwsSigner {
  /** base64url of the protected header, per kid (the header never changes for a key). */
  private readonly headers = new Map<string, string>();

  /** `payload` must be a JSON object of claims; the header is `{"alg":"EdDSA","typ":"JWT","kid":kid}`. */
  sign(kid: string, privateKey: KeyObject, payload: Record<string, unknown>): string {
    let header = this.headers.get(kid);
    if (header === undefined) {
      header = Buffer.from(JSON.stringify({ alg: "EdDSA", typ: "JWT", kid })).toString("base64url");
      // Kids come and go with rotations; the map never outgrows a handful of live keys.
      if (this.headers.size > 64) this.headers.clear();
      this.headers.set(kid, header);
    }
    const signingInput = `${header}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}`;
    const signature = sign(null, Buffer.from(signingInput), privateKey);
    return `${signingInput}.${signature.toString("base64url")}`;
  }
}
