import { createHmac, generateKeyPairSync } from "node:crypto";
import type { AuthenticatorTransportFuture } from "@simplewebauthn/server";
import { isoCBOR } from "@simplewebauthn/server/helpers";
import type { Scope } from "./scope.js";
import { knownTransports } from "./transports.js";

export interface OfferedCredential {
  id: string;
  transports: AuthenticatorTransportFuture[];
}

/**
 * What a stored passkey looks like in options, by the authenticators that make most of them:
 * credential id length and the transports browsers report (`getTransports()` answers them in
 * lexicographic order, WebAuthn §5.2.1). Decoys are drawn from these, weighted roughly like the
 * passkeys an organization's users hold.
 */
const PROFILES: ReadonlyArray<{ weight: number; idBytes: number; transports: AuthenticatorTransportFuture[] }> = [
  { weight: 40, idBytes: 20, transports: ["hybrid", "internal"] }, // iCloud Keychain
  { weight: 25, idBytes: 16, transports: ["hybrid", "internal"] }, // Google Password Manager
  { weight: 15, idBytes: 32, transports: ["hybrid", "internal"] }, // 1Password, Bitwarden, Dashlane, Chrome on Mac
  { weight: 10, idBytes: 32, transports: ["internal"] }, // Windows Hello
  { weight: 10, idBytes: 64, transports: ["nfc", "usb"] }, // security keys (YubiKey 5, …)
];
const PROFILE_WEIGHT = PROFILES.reduce((sum, p) => sum + p.weight, 0);

/** How many passkeys a decoy user has, per 256: one 60 %, two 30 %, three 10 %. */
function decoyCount(byte: number): number {
  if (byte < 154) return 1;
  if (byte < 231) return 2;
  return 3;
}

export type DecoyPurpose = "assertion" | "exclusion";

/**
 * The credentials shown for a named user instead of (or, for registration, in place of) real
 * ones: count, id lengths and transports drawn like real passkeys', every byte derived by
 * HMAC-SHA256(DECOY_CREDENTIAL_SECRET, purpose | org | mode | name | …), so repeated probes get
 * the same answer and different names different ones, like real users. `purpose` separates the
 * lists of sign-in (`allowCredentials`) and registration (`excludeCredentials`): for a real user
 * those two differ (real ids vs decoys), so for an unknown one they must differ too.
 */
export function decoyCredentials(
  secret: string,
  scope: Pick<Scope, "organizationId" | "mode">,
  purpose: DecoyPurpose,
  name: string,
): OfferedCredential[] {
  const prf = (label: string) =>
    createHmac("sha256", secret)
      .update(`decoy\u0000${purpose}\u0000${scope.organizationId}\u0000${scope.mode}\u0000${name}\u0000${label}`)
      .digest();
  const head = prf("shape");
  const count = decoyCount(head[0] as number);
  const out: OfferedCredential[] = [];
  for (let i = 0; i < count; i++) {
    const pick = head.readUInt16BE(1 + 2 * i) % PROFILE_WEIGHT;
    let below = 0;
    const profile =
      PROFILES.find((p) => {
        below += p.weight;
        return pick < below;
      }) ?? (PROFILES[0] as (typeof PROFILES)[number]);
    const id = Buffer.concat([prf(`id:${i}:0`), prf(`id:${i}:1`)]).subarray(0, profile.idBytes);
    out.push({ id: id.toString("base64url"), transports: [...profile.transports] });
  }
  return out;
}

/** A stored passkey as offered in options: its id and its known transports in browser order. */
export function offered(c: { webauthnId: string; transports: readonly string[] }): OfferedCredential {
  return { id: c.webauthnId, transports: knownTransports(c.transports).sort() };
}

/**
 * A public key nobody holds (generated at start, private half dropped): `/assertion/process`
 * verifies a response for an unknown credential id against it, so an unknown id costs the same
 * signature check and ends in the same error as a known id with a wrong signature.
 */
export const UNKNOWN_CREDENTIAL_PUBLIC_KEY: Uint8Array<ArrayBuffer> = (() => {
  const jwk = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ format: "jwk" });
  return Uint8Array.from(
    isoCBOR.encode(
      new Map<number, number | Uint8Array>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(jwk.x ?? "", "base64url")],
        [-3, Buffer.from(jwk.y ?? "", "base64url")],
      ]),
    ),
  );
})();
