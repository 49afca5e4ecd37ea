import type { Mode, VerifiedKey, WebAuthnSettings } from "@authplane/contracts";

/** Who is calling: the verified key's organization and mode (live and test never mix). */
export interface Scope {
  organizationId: string;
  mode: Mode;
  keyId: string;
  settings: VerifiedKey["settings"];
}

/** The relying party with origins normalized (scheme://host[:port], no trailing slash). */
export interface RelyingParty {
  rpId: string;
  rpName: string;
  origins: string[];
  /** Organization setting: options ask for UV and responses without it are refused. */
  requireUserVerification: boolean;
}

/** The caller of the client API (publishable key): its scope and its organization's relying party. */
export interface ClientCaller {
  scope: Scope;
  rp: RelyingParty;
}

/** The caller of the server API (secret key). */
export interface ServerCaller {
  scope: Scope;
}

/**
 * The caller of the Admin API (issue 14): the operator token naming an organization and mode
 * (`X-Organization-Id` + `X-Mode`), or the organization's secret key (its own organization and mode).
 */
export interface AdminCaller {
  scope: { organizationId: string; mode: Mode };
  actor: "operator" | "secretKey";
}

export function relyingPartyOf(scope: Scope): RelyingParty | null {
  const rp: WebAuthnSettings | null = scope.settings.webauthn;
  if (!rp) return null;
  const origins = rp.origins.map((o) => {
    try {
      return new URL(o).origin;
    } catch {
      return o;
    }
  });
  return { rpId: rp.rpId, rpName: rp.rpName, origins, requireUserVerification: rp.requireUserVerification === true };
}
