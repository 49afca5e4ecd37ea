/** `session` of a session response (seed 000), with the API's extras when it sends them. */
export interface Session {
  /** `guest`, `otp` or `external`. */
  type: string;
  /** `guest_…` or `cons_…`. */
  consumerId: string;
  guestId?: string;
  sessionId?: string;
  email?: string;
  phone?: string;
  /** When the current access token expires (ISO 8601); kept up to date across refreshes. */
  expiresAt: string;
  [extra: string]: unknown;
}

/** Answer of guest, OTP verify and exchange: `{ session, accessToken, refreshToken }` (+ extras). */
export interface SessionResponse {
  session: Session;
  accessToken: string;
  refreshToken: string;
  accessTokenExpiresAt?: string;
  refreshTokenExpiresAt?: string;
  refreshTokenTtlSeconds?: number;
  [extra: string]: unknown;
}

/** Answer of refresh: `{ accessToken, refreshToken }` (+ extras). */
export interface RefreshResponse {
  accessToken: string;
  refreshToken: string;
  accessTokenExpiresAt?: string;
  refreshTokenExpiresAt?: string;
  [extra: string]: unknown;
}

/** `POST /otp/request` body: exactly one of email / phone (`defaultCountry` for national phone formats). */
export type OtpRequest = { email: string } | { phone: string; defaultCountry?: string };

/** `POST /otp/verify` body: the same identity plus the code. */
export type OtpVerify = { email: string; code: string } | { phone: string; code: string; defaultCountry?: string };

/** What the SDK keeps in storage (one JSON value under `storageKey`). */
export interface StoredSession {
  v: 1;
  session: Session;
  accessToken: string;
  refreshToken: string;
  /** ms since epoch. */
  accessTokenExpiresAt: number;
  /** ms since epoch; null when the API did not say. */
  refreshTokenExpiresAt: number | null;
}

/** The part of the Web Locks API (`navigator.locks`) the SDK uses. */
export interface LockManagerLike {
  request<T>(name: string, options: { mode?: "exclusive" | "shared" }, callback: (lock: unknown) => Promise<T>): Promise<T>;
}
