import {
  type AuthenticationResponseJSON,
  browserSupportsWebAuthnAutofill,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  startAuthentication,
  startRegistration,
  WebAuthnAbortService,
} from "@simplewebauthn/browser";
import { callClientApi } from "./api.js";
import { credentialsError, type Result } from "./errors.js";

/** A one-time token for your backend: `rtn_…` (register) or `atn_…` (sign in). */
export interface TokenInfo {
  token: string;
  /** Unix seconds; the token is single use and short-lived (5 min by default). */
  expiresAt: number;
}

export type RegisterResponse = Result<TokenInfo>;
export type AuthResponse = Result<TokenInfo>;

/** Who is signing in: your user id, or what the user typed (`username`, the seed's `handle`). */
export type UserAuthenticationInfo = { id: string } | { username: string };

export interface UserRegistrationInfo {
  /**
   * What the passkey manager shows for this passkey (a user name or email). Used only in the
   * browser: it is never sent to the API.
   */
  username: string;
  /** Defaults to `username`; most browsers show `username` anyway. */
  displayName?: string;
  /** Your user id, if known now; lets the API exclude passkeys this user already has. */
  id?: string;
  /** Your user handle, if known now (same purpose as `id`). */
  handle?: string;
}

interface CreationOptionsResult {
  publicKey: PublicKeyCredentialCreationOptionsJSON;
  mediation?: string;
}
interface RequestOptionsResult {
  publicKey: PublicKeyCredentialRequestOptionsJSON;
  mediation?: string;
}

export interface SDKOptions {
  /** Timeout of each API call in milliseconds (default 5000, as the public SDK). */
  timeoutMs?: number;
}

type ClientCapabilities = Record<string, boolean | undefined>;
type CapabilitiesFn = (() => Promise<ClientCapabilities>) | undefined;

function publicKeyCredential(): typeof PublicKeyCredential | undefined {
  return typeof window === "undefined" ? undefined : window.PublicKeyCredential;
}

async function capability(name: string): Promise<boolean | undefined> {
  const pkc = publicKeyCredential();
  const getCapabilities = (pkc as { getClientCapabilities?: CapabilitiesFn } | undefined)?.getClientCapabilities;
  if (!pkc || !getCapabilities) return undefined;
  try {
    return (await getCapabilities.call(pkc))[name];
  } catch {
    return undefined;
  }
}

/**
 * Browser SDK for the passkey client API. Method names, arguments, result shape and error codes
 * follow the public passkey browser SDK (0.3.x), so existing code only changes the base URL.
 * Every method resolves to `{ok: true, data}` or `{ok: false, error, more?}`; none throws.
 * Registration and modal sign-in must run from a user gesture (click, submit).
 */
export class SDK {
  readonly #publishableKey: string;
  readonly #baseUrl: string;
  readonly #timeoutMs: number;

  /**
   * @param publishableKey `pk_live_…` / `pk_test_…`; the page's origin must be one of the
   *   organization's allowed origins.
   * @param baseUrl where the client API lives, e.g. `https://auth.example.com`; `""` for the
   *   page's own origin. Paths are appended to it (one trailing `/` is dropped).
   */
  constructor(publishableKey: string, baseUrl: string, options: SDKOptions = {}) {
    this.#publishableKey = publishableKey;
    this.#baseUrl = baseUrl.endsWith("/") ? baseUrl.slice(0, -1) : baseUrl;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    // A ceremony left pending across navigation can wedge some browsers' next request.
    if (typeof window !== "undefined") window.addEventListener("beforeunload", () => WebAuthnAbortService.cancelCeremony());
  }

  /** Whether the browser has WebAuthn at all. */
  get isWebAuthnAvailable(): boolean {
    return publicKeyCredential() !== undefined;
  }

  /** Whether passkeys can be offered in the browser's autofill (conditional get). */
  async isConditionalGetAvailable(): Promise<boolean> {
    if (!this.isWebAuthnAvailable) return false;
    const declared = await capability("conditionalGet");
    if (declared !== undefined) return declared;
    return browserSupportsWebAuthnAutofill();
  }

  /** Whether a passkey can be created silently after a password sign-in (conditional create). */
  async isConditionalCreateAvailable(): Promise<boolean> {
    if (!this.isWebAuthnAvailable) return false;
    return (await capability("conditionalCreate")) === true;
  }

  /** Creates a passkey; `data.token` (`rtn_…`) goes to your backend's `/registration/attach`. */
  async startRegister(user: UserRegistrationInfo): Promise<RegisterResponse> {
    if (!this.isWebAuthnAvailable) return { ok: false, error: "webauthn_unavailable" };
    return this.#register(user, false);
  }

  /**
   * Signs in with a passkey; `data.token` (`atn_…`) goes to your backend's `/auth/verify`.
   * Without `user`, any discoverable passkey of this site may be chosen (usernameless).
   */
  async startAuth(user?: UserAuthenticationInfo): Promise<AuthResponse> {
    if (!this.isWebAuthnAvailable) return { ok: false, error: "webauthn_unavailable" };
    return this.#authenticate(user, false);
  }

  /**
   * Offers passkeys in the autofill of `<input autocomplete="username webauthn">`. Resolves
   * when the user picks one (or when a modal ceremony started meanwhile cancels it: ignore
   * non-ok results). Call once on page load, not from a gesture.
   */
  async autofill(): Promise<AuthResponse> {
    if (!(await this.isConditionalGetAvailable())) return { ok: false, error: "api_unsupported_in_browser" };
    return this.#authenticate(undefined, true);
  }

  /** Right after a password sign-in: asks the password manager to add a passkey silently. */
  async upgradeToPasskey(user: UserRegistrationInfo): Promise<RegisterResponse> {
    if (!(await this.isConditionalCreateAvailable())) return { ok: false, error: "api_unsupported_in_browser" };
    return this.#register(user, true);
  }

  /** @deprecated as in the public SDK: use `await autofill()` and ignore non-ok results. */
  async handleAutofill(callback: (result: AuthResponse) => void): Promise<void> {
    const result = await this.autofill();
    if (result.ok) callback(result);
  }

  #api<T>(path: string, body: unknown): Promise<Result<T>> {
    return callClientApi<T>({ publishableKey: this.#publishableKey, baseUrl: this.#baseUrl, timeoutMs: this.#timeoutMs }, path, body);
  }

  async #register(user: UserRegistrationInfo, upgrade: boolean): Promise<RegisterResponse> {
    // Privacy: only identifiers go to the API; the visible name is filled in locally.
    const remoteUser = user.id || user.handle ? { id: user.id, handle: user.handle } : undefined;
    const options = await this.#api<CreationOptionsResult>("/attestation/options", { user: remoteUser, upgrade });
    if (!options.ok) return options;
    const optionsJSON: PublicKeyCredentialCreationOptionsJSON = {
      ...options.data.publicKey,
      user: { ...options.data.publicKey.user, name: user.username, displayName: user.displayName ?? user.username },
    };
    let credential: RegistrationResponseJSON;
    try {
      credential = await startRegistration({ optionsJSON, useAutoRegister: upgrade });
    } catch (error) {
      return credentialsError(error);
    }
    return this.#api<TokenInfo>("/attestation/process", { credential, user: remoteUser });
  }

  async #authenticate(user: UserAuthenticationInfo | undefined, autofill: boolean): Promise<AuthResponse> {
    const options = await this.#api<RequestOptionsResult>("/assertion/options", user ? { user } : {});
    if (!options.ok) return options;
    let credential: AuthenticationResponseJSON;
    try {
      credential = await startAuthentication({ optionsJSON: options.data.publicKey, useBrowserAutofill: autofill });
    } catch (error) {
      return credentialsError(error);
    }
    return this.#api<TokenInfo>("/assertion/process", user ? { credential, user } : { credential });
  }
}

/** The same class under a descriptive name. */
export { SDK as Passkeys };
