import { errorFromResponse, errorFromThrown, FanfareError, isRecord } from "./errors.js";
import { resolveStorage, type StorageOption, type TokenStorage } from "./storage.js";
import type { LockManagerLike, OtpRequest, OtpVerify, RefreshResponse, Session, SessionResponse, StoredSession } from "./types.js";

export interface FanfareOptions {
  /** `pk_live_…` or `pk_test_…`. A secret key (`sk_…`) is refused: it must never reach a browser. */
  publishableKey: string;
  /** Origin (and optional path prefix) of the consumer API, e.g. `https://consumer.example.com`. Default `""`: this page's origin. */
  baseUrl?: string;
  /** Where the session is kept. Default `localStorage` (memory where it is unusable). */
  storage?: StorageOption;
  /** Storage key of the session. Default `fanfare.session.<publishableKey>`, so test and live never mix. */
  storageKey?: string;
  /** Timeout of the SDK's own API calls (not of `fanfare.fetch`), ms. Default 10000. */
  timeoutMs?: number;
  /** An access token expiring within this many seconds is refreshed before use. Default 30. */
  refreshLeewaySeconds?: number;
  /**
   * Coordinate with the origin's other tabs (Web Locks + BroadcastChannel + storage events), so one
   * refresh serves every tab. Default true; has no effect where the browser lacks the APIs.
   */
  crossTab?: boolean;
  /** Lock manager; default `navigator.locks`. `null` disables cross-tab locking. */
  locks?: LockManagerLike | null;
  /** The `fetch` to use; default the global one. */
  fetch?: typeof fetch;
}

type Listener = (session: Session | null) => void;

const PUBLISHABLE_KEY = /^pk_(live|test)_[A-Za-z0-9]+$/;
/** 401 codes of OTP verify / exchange that are about the guest token we sent, not the code: the code is still usable. */
const GUEST_TOKEN_REFUSED = new Set(["invalid_token", "key_mismatch", "session_revoked", "Authentication required"]);

function toMs(iso: unknown): number | null {
  if (typeof iso !== "string") return null;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : null;
}

/** `exp` of a JWT in ms (read, not verified: only used to decide when to refresh). */
function jwtExpiryMs(token: string): number | null {
  const part = token.split(".")[1];
  if (!part) return null;
  try {
    const json = atob(
      part
        .replace(/-/g, "+")
        .replace(/_/g, "/")
        .padEnd(Math.ceil(part.length / 4) * 4, "="),
    );
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === "number" ? exp * 1000 : null;
  } catch {
    return null;
  }
}

function parseStored(raw: string | null): StoredSession | null {
  if (!raw) return null;
  try {
    const v = JSON.parse(raw) as Partial<StoredSession>;
    if (
      v.v === 1 &&
      typeof v.accessToken === "string" &&
      typeof v.refreshToken === "string" &&
      typeof v.accessTokenExpiresAt === "number" &&
      isRecord(v.session) &&
      typeof v.session.consumerId === "string"
    ) {
      return v as StoredSession;
    }
  } catch {
    /* not ours / corrupted: treated as signed out */
  }
  return null;
}

function sameSession(a: StoredSession | null, b: StoredSession | null): boolean {
  return a?.refreshToken === b?.refreshToken && a?.accessToken === b?.accessToken;
}

/**
 * Browser SDK of the consumer API (seed 000). Keeps one session per origin and publishable key,
 * shared by the origin's tabs. See the package README for the flows.
 */
export class Fanfare {
  /** Guest sessions, OTP, external exchange, refresh and logout. */
  readonly auth: FanfareAuth;
  private readonly core: SessionCore;

  constructor(options: FanfareOptions) {
    this.core = new SessionCore(options);
    this.auth = new FanfareAuth(this.core);
  }

  /**
   * `fetch` with the session: adds `X-Publishable-Key` and `Authorization: Bearer <access token>`
   * (refreshed first when it is about to expire). On a 401 it refreshes once and repeats the
   * request once; a second 401 is returned as it is. A path starting with `/` is resolved against
   * `baseUrl`. Without a session the request goes out with the publishable key only.
   */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    return this.core.authorizedFetch(input, init);
  }

  /** Stops listening to other tabs (BroadcastChannel, storage events). The session stays stored. */
  close(): void {
    this.core.close();
  }
}

/** `fanfare.auth`: the seed's consumer authentication flows. */
export class FanfareAuth {
  constructor(private readonly core: SessionCore) {}

  /**
   * A session for this browser: the stored one if there is one (any type), else a new guest
   * session (`POST /api/v1/auth/guest`). Tabs opening at once create one guest, not one each.
   * `{ force: true }` always creates a new guest session (the previous one is logged out).
   */
  guest(options: { force?: boolean } = {}): Promise<Session> {
    return this.core.guest(options.force === true);
  }

  /** `POST /api/v1/auth/otp/request`: sends a code by email or SMS. Answers `{ ok: true }`. */
  requestOtp(input: OtpRequest): Promise<{ ok: true }> {
    return this.core.requestOtp(input);
  }

  /**
   * `POST /api/v1/auth/otp/verify`: signs in. Holding a guest session, its access token is sent so
   * the API upgrades that guest in place (same `consumerId`).
   */
  verifyOtp(input: OtpVerify): Promise<SessionResponse> {
    return this.core.signIn("/api/v1/auth/otp/verify", input);
  }

  /** `POST /api/v1/auth/external/exchange`: trades your server's exchange code for a session (guest upgraded as for OTP). */
  exchange(input: string | { exchangeCode: string }): Promise<SessionResponse> {
    const exchangeCode = typeof input === "string" ? input : input.exchangeCode;
    return this.core.signIn("/api/v1/auth/external/exchange", { exchangeCode });
  }

  /**
   * `POST /api/v1/auth/refresh`, coordinated: concurrent calls in a tab share one request, and a
   * tab that finds the tokens already rotated by another tab takes those instead of refreshing
   * again. A 401 (revoked, expired, reused) ends the session locally and throws.
   */
  async refresh(): Promise<RefreshResponse> {
    const s = await this.core.refresh();
    return {
      accessToken: s.accessToken,
      refreshToken: s.refreshToken,
      accessTokenExpiresAt: new Date(s.accessTokenExpiresAt).toISOString(),
      ...(s.refreshTokenExpiresAt !== null ? { refreshTokenExpiresAt: new Date(s.refreshTokenExpiresAt).toISOString() } : {}),
    };
  }

  /**
   * `POST /api/v1/auth/logout` (revokes the session on the server). The local session is removed in
   * every case; throws only when the server could not be told (network, 5xx).
   */
  logout(): Promise<void> {
    return this.core.logout();
  }

  /** The stored session, or null. */
  getSession(): Promise<Session | null> {
    return this.core.getSession();
  }

  /** An access token valid for at least `refreshLeewaySeconds` (refreshing if needed), or null without a session. */
  getAccessToken(): Promise<string | null> {
    return this.core.getAccessToken();
  }

  /** Called with the session (or null) whenever it changes, in this tab or another. Returns an unsubscribe function. */
  onChange(listener: Listener): () => void {
    return this.core.onChange(listener);
  }
}

/** @internal The state machine behind `Fanfare`; not exported from the package. */
export class SessionCore {
  private readonly publishableKey: string;
  private readonly baseUrl: string;
  private readonly storage: TokenStorage;
  private readonly storageKey: string;
  private readonly timeoutMs: number;
  private readonly leewayMs: number;
  private readonly locks: LockManagerLike | null;
  private readonly fetchImpl: typeof fetch;
  private readonly channel: BroadcastChannel | null = null;
  private readonly listeners = new Set<Listener>();
  private readonly detachStorageListener: (() => void) | null = null;
  private state: StoredSession | null = null;
  private readonly loaded: Promise<void>;
  /** The refresh in flight in this tab (single-flight). */
  private refreshing: Promise<StoredSession> | null = null;

  constructor(options: FanfareOptions) {
    if (typeof options.publishableKey === "string" && options.publishableKey.startsWith("sk_")) {
      throw new TypeError("Fanfare: a secret key (sk_…) must never be used in a browser; pass the publishable key (pk_…).");
    }
    if (typeof options.publishableKey !== "string" || !PUBLISHABLE_KEY.test(options.publishableKey)) {
      throw new TypeError("Fanfare: publishableKey must be a publishable key (pk_live_… or pk_test_…).");
    }
    this.publishableKey = options.publishableKey;
    this.baseUrl = (options.baseUrl ?? "").replace(/\/$/, "");
    const { storage, isLocalStorage } = resolveStorage(options.storage);
    this.storage = storage;
    this.storageKey = options.storageKey ?? `fanfare.session.${options.publishableKey}`;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.leewayMs = (options.refreshLeewaySeconds ?? 30) * 1000;
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    const crossTab = options.crossTab !== false;
    const navigatorLocks = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks ?? null;
    this.locks = crossTab ? (options.locks === undefined ? navigatorLocks : options.locks) : null;
    if (crossTab && typeof BroadcastChannel !== "undefined") {
      const channel = new BroadcastChannel(`fanfare:${this.storageKey}`);
      // Another tab changed the session: take its state (it may arrive before storage catches up).
      channel.onmessage = (event: MessageEvent) => {
        const data = event.data as { state?: unknown } | null;
        if (!isRecord(data) || !("state" in data)) return;
        this.adopt(data.state === null ? null : parseStored(JSON.stringify(data.state)));
      };
      this.channel = channel;
    }
    const win = (globalThis as { window?: Window }).window;
    if (crossTab && isLocalStorage && win?.addEventListener) {
      const onStorage = (event: StorageEvent) => {
        if (event.key === this.storageKey || event.key === null) this.adopt(parseStored(event.newValue));
      };
      win.addEventListener("storage", onStorage);
      this.detachStorageListener = () => win.removeEventListener("storage", onStorage);
    }
    this.loaded = this.readStored().then(
      (s) => {
        // Only if nothing newer arrived meanwhile (a broadcast, or a sign-in that did not wait).
        if (this.state === null) this.state = s;
      },
      () => {},
    );
  }

  close(): void {
    this.channel?.close();
    this.detachStorageListener?.();
    this.listeners.clear();
  }

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async getSession(): Promise<Session | null> {
    await this.loaded;
    return this.live(this.state)?.session ?? null;
  }

  async getAccessToken(): Promise<string | null> {
    return (await this.freshState())?.accessToken ?? null;
  }

  // --- flows ---

  async guest(force: boolean): Promise<Session> {
    await this.loaded;
    const previous = await this.withLock(async () => {
      const current = this.live(await this.latest());
      if (current && !force) return { session: current.session, replaced: null };
      const body = await this.call("/api/v1/auth/guest", {});
      const next = this.fromSessionResponse(body);
      await this.save(next);
      return { session: next.session, replaced: current };
    });
    if (previous.replaced) this.revokeQuietly(previous.replaced);
    return previous.session;
  }

  async requestOtp(input: OtpRequest): Promise<{ ok: true }> {
    await this.call("/api/v1/auth/otp/request", { body: input });
    return { ok: true };
  }

  /**
   * OTP verify / exchange. Under the lock, so another tab's refresh of the old session cannot
   * overwrite the new one. A guest's token is sent (refreshed first if about to expire) so the
   * guest is upgraded in place; if the API refuses that token, the call is repeated without it
   * (it refuses before consuming the code, so the code is still good).
   */
  async signIn(path: string, body: unknown): Promise<SessionResponse> {
    await this.loaded;
    const result = await this.withLock(async () => {
      let current = this.live(await this.latest());
      let guestToken: string | undefined;
      if (current?.session.type === "guest") {
        if (this.expiresSoon(current)) current = await this.rotateLocked(current).catch(() => null);
        guestToken = current?.accessToken;
      }
      let answer: unknown;
      try {
        answer = await this.call(path, { body, accessToken: guestToken });
      } catch (err) {
        if (!(guestToken && err instanceof FanfareError && err.status === 401 && GUEST_TOKEN_REFUSED.has(err.code))) throw err;
        answer = await this.call(path, { body });
      }
      const next = this.fromSessionResponse(answer);
      await this.save(next);
      return { answer: answer as SessionResponse, replaced: current };
    });
    // The replaced session's refresh token is gone from this browser: end it on the server too.
    if (result.replaced && result.replaced.session.sessionId !== result.answer.session.sessionId) this.revokeQuietly(result.replaced);
    return result.answer;
  }

  /** Public refresh: rotates whatever session is current now. */
  async refresh(): Promise<StoredSession> {
    await this.loaded;
    return this.rotate(this.state?.refreshToken ?? null);
  }

  async logout(): Promise<void> {
    await this.loaded;
    await this.withLock(async () => {
      const current = await this.latest();
      if (!current) {
        await this.save(null);
        return;
      }
      try {
        await this.revoke(current);
      } finally {
        await this.save(null);
      }
    });
  }

  async authorizedFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const target = typeof input === "string" && input.startsWith("/") ? this.baseUrl + input : input;
    const first = new Request(target, init);
    // Kept for the one repeat after a 401 (a body can be sent only once).
    const spare = first.clone();
    const state = await this.freshState().catch(() => this.live(this.state));
    const response = await this.fetchImpl(this.withHeaders(first, state?.accessToken));
    if (response.status !== 401 || !state) return response;
    let next: StoredSession;
    try {
      next = await this.rotate(state.refreshToken);
    } catch {
      return response;
    }
    if (next.accessToken === state.accessToken) return response;
    await response.body?.cancel().catch(() => {});
    return this.fetchImpl(this.withHeaders(spare, next.accessToken));
  }

  // --- refresh ---

  /**
   * Rotates the session whose refresh token was `seen`. Single-flight in this tab; across tabs the
   * lock serialises, and a tab that gets the lock after another tab rotated finds a different
   * refresh token stored and takes it instead of spending its own (already spent) one.
   */
  private rotate(seen: string | null): Promise<StoredSession> {
    if (this.refreshing) return this.refreshing;
    const run = this.withLock(async () => {
      const latest = await this.latest(seen);
      if (!latest) throw new FanfareError({ status: 0, code: "not_signed_in", message: "There is no session to refresh." });
      if (seen !== null && latest.refreshToken !== seen) return latest;
      return this.rotateLocked(latest);
    }).finally(() => {
      this.refreshing = null;
    });
    this.refreshing = run;
    return run;
  }

  /** The refresh call itself; the caller holds the lock. A 401 ends the session. */
  private async rotateLocked(current: StoredSession): Promise<StoredSession> {
    let answer: unknown;
    try {
      answer = await this.call("/api/v1/auth/refresh", { body: { refreshToken: current.refreshToken } });
    } catch (err) {
      if (err instanceof FanfareError && err.status === 401) await this.save(null);
      throw err;
    }
    if (!isRecord(answer) || typeof answer.accessToken !== "string" || typeof answer.refreshToken !== "string") {
      throw new FanfareError({ status: 200, code: "invalid_response", message: "The refresh answer has no tokens.", body: answer });
    }
    const accessTokenExpiresAt = toMs(answer.accessTokenExpiresAt) ?? jwtExpiryMs(answer.accessToken) ?? Date.now() + 3_600_000;
    const next: StoredSession = {
      v: 1,
      session: { ...current.session, expiresAt: new Date(accessTokenExpiresAt).toISOString() },
      accessToken: answer.accessToken,
      refreshToken: answer.refreshToken,
      accessTokenExpiresAt,
      refreshTokenExpiresAt: toMs(answer.refreshTokenExpiresAt) ?? current.refreshTokenExpiresAt,
    };
    await this.save(next);
    return next;
  }

  /** The current session with an access token not about to expire (refreshing it if needed), or null. */
  private async freshState(): Promise<StoredSession | null> {
    await this.loaded;
    const current = this.live(this.state);
    if (!current) return null;
    if (!this.expiresSoon(current)) return current;
    try {
      return await this.rotate(current.refreshToken);
    } catch (err) {
      // Could not refresh (offline, 5xx): a token that has not actually expired is still worth trying.
      if (err instanceof FanfareError && err.status !== 401 && current.accessTokenExpiresAt > Date.now()) return current;
      if (err instanceof FanfareError && err.status === 401) return null;
      throw err;
    }
  }

  private expiresSoon(s: StoredSession): boolean {
    return s.accessTokenExpiresAt - this.leewayMs <= Date.now();
  }

  /** A session whose refresh token has expired is no session. */
  private live(s: StoredSession | null): StoredSession | null {
    if (!s) return null;
    if (s.refreshTokenExpiresAt !== null && s.refreshTokenExpiresAt <= Date.now()) return null;
    return s;
  }

  // --- logout helpers ---

  /** `POST /logout` with the session's access token; a 401 (token refused) gets one refresh and one retry. */
  private async revoke(s: StoredSession): Promise<void> {
    try {
      await this.call("/api/v1/auth/logout", { accessToken: s.accessToken });
      return;
    } catch (err) {
      if (!(err instanceof FanfareError && err.status === 401)) throw err;
    }
    let next: StoredSession;
    try {
      next = await this.rotateLocked(s);
    } catch (err) {
      // The session is already over on the server (revoked, expired, reused): nothing left to end.
      if (err instanceof FanfareError && err.status === 401) return;
      throw err;
    }
    try {
      await this.call("/api/v1/auth/logout", { accessToken: next.accessToken });
    } catch (err) {
      if (!(err instanceof FanfareError && err.status === 401)) throw err;
    }
  }

  private revokeQuietly(s: StoredSession): void {
    this.call("/api/v1/auth/logout", { accessToken: s.accessToken }).catch(() => {});
  }

  // --- state ---

  /**
   * The newest known state: storage (another tab may have written it), unless storage still shows
   * the token this tab started from while a broadcast already told us of a newer one.
   */
  private async latest(seen?: string | null): Promise<StoredSession | null> {
    let stored: StoredSession | null;
    try {
      stored = await this.readStored();
    } catch {
      stored = this.state;
    }
    if (seen !== undefined && seen !== null && stored?.refreshToken === seen && this.state?.refreshToken !== seen) return this.state;
    if (!sameSession(stored, this.state)) this.adopt(stored);
    return stored;
  }

  private async readStored(): Promise<StoredSession | null> {
    return parseStored(await this.storage.getItem(this.storageKey));
  }

  /** Takes a state learned from elsewhere (another tab); tells listeners if it changed. */
  private adopt(next: StoredSession | null): void {
    if (sameSession(next, this.state)) return;
    this.state = next;
    this.emit();
  }

  /** Sets, persists and announces a new state (null: signed out). */
  private async save(next: StoredSession | null): Promise<void> {
    const changed = !sameSession(next, this.state);
    this.state = next;
    try {
      if (next) await this.storage.setItem(this.storageKey, JSON.stringify(next));
      else await this.storage.removeItem(this.storageKey);
    } catch {
      // Storage full or blocked: the session lives in this page's memory only.
    }
    this.channel?.postMessage({ state: next });
    if (changed) this.emit();
  }

  private emit(): void {
    const session = this.live(this.state)?.session ?? null;
    for (const listener of [...this.listeners]) {
      try {
        listener(session);
      } catch {
        /* a listener's error is its own */
      }
    }
  }

  private fromSessionResponse(answer: unknown): StoredSession {
    if (
      !isRecord(answer) ||
      !isRecord(answer.session) ||
      typeof answer.session.consumerId !== "string" ||
      typeof answer.accessToken !== "string" ||
      typeof answer.refreshToken !== "string"
    ) {
      throw new FanfareError({ status: 200, code: "invalid_response", message: "The answer is not a session response.", body: answer });
    }
    const session = answer.session as Session;
    const accessTokenExpiresAt =
      toMs(answer.accessTokenExpiresAt) ?? toMs(session.expiresAt) ?? jwtExpiryMs(answer.accessToken) ?? Date.now() + 3_600_000;
    const ttl = typeof answer.refreshTokenTtlSeconds === "number" ? Date.now() + answer.refreshTokenTtlSeconds * 1000 : null;
    return {
      v: 1,
      session,
      accessToken: answer.accessToken,
      refreshToken: answer.refreshToken,
      accessTokenExpiresAt,
      refreshTokenExpiresAt: toMs(answer.refreshTokenExpiresAt) ?? ttl,
    };
  }

  // --- transport ---

  private withLock<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.locks) return fn();
    return this.locks.request(`fanfare:${this.storageKey}`, { mode: "exclusive" }, () => fn());
  }

  private withHeaders(request: Request, accessToken: string | undefined): Request {
    request.headers.set("X-Publishable-Key", this.publishableKey);
    if (accessToken) request.headers.set("Authorization", `Bearer ${accessToken}`);
    return request;
  }

  /** One SDK call: POST JSON, seed-000 errors as FanfareError, 204 as undefined. */
  private async call(path: string, opts: { body?: unknown; accessToken?: string | undefined }): Promise<unknown> {
    const headers: Record<string, string> = { Accept: "application/json", "X-Publishable-Key": this.publishableKey };
    if (opts.body !== undefined) headers["Content-Type"] = "application/json";
    if (opts.accessToken) headers.Authorization = `Bearer ${opts.accessToken}`;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeoutMs);
    let response: Response;
    try {
      response = await this.fetchImpl(this.baseUrl + path, {
        method: "POST",
        headers,
        ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
        // The key and the bearer token authenticate; cookies are never sent (and CORS never allows credentials).
        credentials: "omit",
        signal: controller.signal,
      });
    } catch (err) {
      clearTimeout(timer);
      throw errorFromThrown(err, timedOut);
    }
    try {
      if (!response.ok) throw await errorFromResponse(response);
      if (response.status === 204) return undefined;
      const text = await response.text();
      try {
        return text ? JSON.parse(text) : undefined;
      } catch {
        throw new FanfareError({
          status: response.status,
          code: "invalid_response",
          message: `${path} answered ${response.status} without JSON`,
        });
      }
    } finally {
      clearTimeout(timer);
    }
  }
}
