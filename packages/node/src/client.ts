import {
  AttachRegistrationRequest,
  AttachRegistrationResult,
  type CreateApiKeyRequest,
  type CreateOrganizationRequest,
  CreateOrganizationResponse,
  type ExternalAuthorizeRequest,
  ExternalAuthorizeResponse,
  FindCredentialsRequest,
  FindCredentialsResult,
  IntrospectResponse,
  IssuedApiKeyResponse,
  ListApiKeysResponse,
  ListOrganizationsResponse,
  type Mode,
  OrganizationResponse,
  PasskeyCredential,
  RevokeApiKeyResponse,
  type RotateApiKeyRequest,
  SettingsResponse,
  type UpdateCredentialRequest,
  type UpdateSettingsRequest,
  VerifyAuthTokenRequest,
  VerifyAuthTokenResult,
} from "@authplane/contracts";
import type { z } from "zod";
import { basicSecret, bearer, requireCredential, Transport, type TransportOptions } from "./transport.js";

const SECRET_KEY = /^sk_(live|test)_[A-Za-z0-9]+$/;
/** The passkey SDKs' form of a secret key: `secret_` + the `sk_…` key. */
const PASSKEY_SECRET = /^(secret_)?sk_(live|test)_[A-Za-z0-9]+$/;
const KEY_ID = /^key_[0-9A-HJKMNP-TV-Z]{26}$/;
const ORG_ID = /^org_[0-9A-HJKMNP-TV-Z]{26}$/;

export interface AuthplaneOptions extends TransportOptions {
  /** `sk_live_…` / `sk_test_…`: the consumer API's server side, the passkey server API and the Admin API of its organization and mode. */
  secretKey?: string;
  /** The platform operator's token: the operator API (every organization). */
  operatorToken?: string;
}

/** Options every call takes. */
export interface CallOptions {
  /** Sent as `X-Request-Id`, to find the call in the platform's logs. */
  requestId?: string;
}

/**
 * The server-side client of authplane. One base URL (the gateway); each group needs its credential:
 *
 * ```ts
 * const authplane = new Authplane({ baseUrl: "https://auth.example.com", secretKey: process.env.AUTHPLANE_SECRET_KEY });
 * const { exchangeCode } = await authplane.consumer.authorizeExternal({ provider: "google", issuer, subject });
 * const { user } = await authplane.passkeys.verifyAuthToken({ token });
 * ```
 */
export class Authplane {
  /** Consumer API, server side (seed 000): external authorization and token introspection. */
  readonly consumer: ConsumerServerApi;
  /** Passkey server API (seed 003). */
  readonly passkeys: PasskeyServerApi;
  /** Admin API of the secret key's organization and mode: keys and settings. */
  readonly admin: AdminApi;
  /** Operator API: organizations and each mode's settings. */
  readonly operator: OperatorApi;

  constructor(options: AuthplaneOptions) {
    const transport = new Transport(options);
    if (options.secretKey !== undefined && !PASSKEY_SECRET.test(options.secretKey)) {
      throw new TypeError("authplane: secretKey must be a secret key (sk_live_… / sk_test_…); a publishable key belongs in the browser");
    }
    const secret = options.secretKey?.replace(/^secret_/, "");
    this.consumer = new ConsumerServerApi(transport, secret);
    this.passkeys = new PasskeyServerApi(transport, secret);
    this.admin = new AdminApi(transport, secret);
    this.operator = new OperatorApi(transport, options.operatorToken);
  }
}

function secretOf(secret: string | undefined): string {
  return requireCredential(secret, "secretKey (sk_live_… / sk_test_…)", SECRET_KEY);
}

export class ConsumerServerApi {
  constructor(
    private readonly transport: Transport,
    private readonly secret: string | undefined,
  ) {}

  /** `POST /api/v1/auth/external/authorize`: a one-time exchange code for an identity your server has verified. */
  async authorizeExternal(input: z.input<typeof ExternalAuthorizeRequest>, options: CallOptions = {}): Promise<ExternalAuthorizeResponse> {
    return this.transport.call({
      api: "consumer",
      method: "POST",
      path: "/api/v1/auth/external/authorize",
      authorization: bearer(secretOf(this.secret)),
      body: input,
      schema: ExternalAuthorizeResponse,
      requestId: options.requestId,
    });
  }

  /** `POST /api/v1/auth/introspect`: is this access token a live session of the key's organization and mode? */
  async introspect(token: string, options: CallOptions = {}): Promise<IntrospectResponse> {
    return this.transport.call({
      api: "consumer",
      method: "POST",
      path: "/api/v1/auth/introspect",
      authorization: bearer(secretOf(this.secret)),
      body: { token },
      schema: IntrospectResponse,
      requestId: options.requestId,
    });
  }
}

export class PasskeyServerApi {
  constructor(
    private readonly transport: Transport,
    private readonly secret: string | undefined,
  ) {}

  private post<S extends Parameters<Transport["call"]>[0]["schema"]>(path: string, body: unknown, schema: S, options: CallOptions) {
    return this.transport.call({
      api: "passkey",
      method: "POST",
      path,
      authorization: basicSecret(secretOf(this.secret)),
      body,
      schema,
      requestId: options.requestId,
    });
  }

  /** `POST /registration/attach`: attaches a client registration token (`rtn_…`) to your user; the new credential's id. */
  async attachRegistration(input: z.input<typeof AttachRegistrationRequest>, options: CallOptions = {}): Promise<AttachRegistrationResult> {
    return this.post("/registration/attach", AttachRegistrationRequest.parse(input), AttachRegistrationResult, options);
  }

  /** `POST /credential/create`: as attach, answering the whole credential. */
  async createCredential(input: z.input<typeof AttachRegistrationRequest>, options: CallOptions = {}): Promise<PasskeyCredential> {
    return this.post("/credential/create", AttachRegistrationRequest.parse(input), PasskeyCredential, options);
  }

  /** `POST /auth/verify`: who signed in with this authentication token (`atn_…`, one use). */
  async verifyAuthToken(input: z.input<typeof VerifyAuthTokenRequest>, options: CallOptions = {}): Promise<VerifyAuthTokenResult> {
    return this.post("/auth/verify", VerifyAuthTokenRequest.parse(input), VerifyAuthTokenResult, options);
  }

  /** `POST /credential/update`: activates or deactivates a credential. */
  async updateCredential(input: z.input<typeof UpdateCredentialRequest>, options: CallOptions = {}): Promise<PasskeyCredential> {
    return this.post("/credential/update", input, PasskeyCredential, options);
  }

  /** `POST /credential/find`: a user's credentials (by id or handle). */
  async findCredentials(input: z.input<typeof FindCredentialsRequest>, options: CallOptions = {}): Promise<PasskeyCredential[]> {
    return this.post("/credential/find", FindCredentialsRequest.parse(input), FindCredentialsResult, options).then((r) => r.data);
  }
}

export class AdminApi {
  constructor(
    private readonly transport: Transport,
    private readonly secret: string | undefined,
  ) {}

  private get auth(): string {
    return bearer(secretOf(this.secret));
  }

  /** `GET /api/v1/keys`: the keys of the secret key's organization and mode (never the key strings). */
  async listKeys(options: CallOptions = {}): Promise<ListApiKeysResponse["keys"]> {
    return this.transport
      .call({
        api: "admin",
        method: "GET",
        path: "/api/v1/keys",
        authorization: this.auth,
        schema: ListApiKeysResponse,
        requestId: options.requestId,
      })
      .then((r) => r.keys);
  }

  /** `POST /api/v1/keys`: a new key of this mode; `value` is shown only here. */
  async createKey(input: z.input<typeof CreateApiKeyRequest>, options: CallOptions = {}): Promise<IssuedApiKeyResponse> {
    return this.transport.call({
      api: "admin",
      method: "POST",
      path: "/api/v1/keys",
      authorization: this.auth,
      body: input,
      schema: IssuedApiKeyResponse,
      requestId: options.requestId,
    });
  }

  /** `POST /api/v1/keys/:id/rotate`: a new key; the old one keeps working for `expiresInSeconds` (default one day, 0 = stops now). */
  async rotateKey(
    keyId: string,
    input: z.input<typeof RotateApiKeyRequest> = {},
    options: CallOptions = {},
  ): Promise<IssuedApiKeyResponse> {
    return this.transport.call({
      api: "admin",
      method: "POST",
      path: `/api/v1/keys/${encodeURIComponent(requireCredential(keyId, "a key id (key_…)", KEY_ID))}/rotate`,
      authorization: this.auth,
      body: input,
      schema: IssuedApiKeyResponse,
      requestId: options.requestId,
    });
  }

  /** `POST /api/v1/keys/:id/revoke`: stops a key at once. */
  async revokeKey(keyId: string, options: CallOptions = {}): Promise<RevokeApiKeyResponse["key"]> {
    return this.transport
      .call({
        api: "admin",
        method: "POST",
        path: `/api/v1/keys/${encodeURIComponent(requireCredential(keyId, "a key id (key_…)", KEY_ID))}/revoke`,
        authorization: this.auth,
        schema: RevokeApiKeyResponse,
        requestId: options.requestId,
      })
      .then((r) => r.key);
  }

  /** `GET /api/v1/organizations/current/settings`: this mode's settings. */
  async getSettings(options: CallOptions = {}): Promise<SettingsResponse["settings"]> {
    return this.transport
      .call({
        api: "admin",
        method: "GET",
        path: "/api/v1/organizations/current/settings",
        authorization: this.auth,
        schema: SettingsResponse,
        requestId: options.requestId,
      })
      .then((r) => r.settings);
  }

  /** `PATCH /api/v1/organizations/current/settings`: changes the fields given; answers the new settings. */
  async updateSettings(patch: z.input<typeof UpdateSettingsRequest>, options: CallOptions = {}): Promise<SettingsResponse["settings"]> {
    return this.transport
      .call({
        api: "admin",
        method: "PATCH",
        path: "/api/v1/organizations/current/settings",
        authorization: this.auth,
        body: patch,
        schema: SettingsResponse,
        requestId: options.requestId,
      })
      .then((r) => r.settings);
  }
}

export class OperatorApi {
  constructor(
    private readonly transport: Transport,
    private readonly token: string | undefined,
  ) {}

  private get auth(): string {
    return bearer(requireCredential(this.token, "operatorToken", /^\S{1,512}$/));
  }

  private orgPath(id: string, rest = ""): string {
    return `/api/v1/organizations/${encodeURIComponent(requireCredential(id, "an organization id (org_…)", ORG_ID))}${rest}`;
  }

  /** `POST /api/v1/organizations`: a new organization and its four keys (shown only here). */
  async createOrganization(
    input: z.input<typeof CreateOrganizationRequest>,
    options: CallOptions = {},
  ): Promise<CreateOrganizationResponse> {
    return this.transport.call({
      api: "operator",
      method: "POST",
      path: "/api/v1/organizations",
      authorization: this.auth,
      body: input,
      schema: CreateOrganizationResponse,
      requestId: options.requestId,
    });
  }

  /** `GET /api/v1/organizations`: newest first, `limit` 1–200 (default 50); pass `nextBefore` as `before`. */
  async listOrganizations(query: { limit?: number; before?: string } = {}, options: CallOptions = {}): Promise<ListOrganizationsResponse> {
    return this.transport.call({
      api: "operator",
      method: "GET",
      path: "/api/v1/organizations",
      authorization: this.auth,
      query,
      schema: ListOrganizationsResponse,
      requestId: options.requestId,
    });
  }

  /** `GET /api/v1/organizations/:id`. */
  async getOrganization(id: string, options: CallOptions = {}): Promise<OrganizationResponse["organization"]> {
    return this.transport
      .call({
        api: "operator",
        method: "GET",
        path: this.orgPath(id),
        authorization: this.auth,
        schema: OrganizationResponse,
        requestId: options.requestId,
      })
      .then((r) => r.organization);
  }

  /** `GET /api/v1/organizations/:id/settings/:mode`. */
  async getSettings(id: string, mode: Mode, options: CallOptions = {}): Promise<SettingsResponse["settings"]> {
    return this.transport
      .call({
        api: "operator",
        method: "GET",
        path: this.orgPath(id, `/settings/${mode}`),
        authorization: this.auth,
        schema: SettingsResponse,
        requestId: options.requestId,
      })
      .then((r) => r.settings);
  }

  /** `PATCH /api/v1/organizations/:id/settings/:mode`: same body and validation as the Admin API's. */
  async updateSettings(
    id: string,
    mode: Mode,
    patch: z.input<typeof UpdateSettingsRequest>,
    options: CallOptions = {},
  ): Promise<SettingsResponse["settings"]> {
    return this.transport
      .call({
        api: "operator",
        method: "PATCH",
        path: this.orgPath(id, `/settings/${mode}`),
        authorization: this.auth,
        body: patch,
        schema: SettingsResponse,
        requestId: options.requestId,
      })
      .then((r) => r.settings);
  }
}
