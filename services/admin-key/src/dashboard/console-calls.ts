import { z } from "zod";
import type { Env } from "../env.js";
import { ServiceCallError } from "./api-client.js";
import type { ConsoleOrganization } from "./console-org.js";

/**
 * The console's calls, as the console organization's own backend, to consumer-auth (seed 000:
 * guest, email OTP request/verify, logout; publishable key) and webauthn-credential (seed 003
 * server API: attach a registration, verify a sign-in; the sealed secret key). Through the gateway
 * (DASHBOARD_API_URL), bounded by DASHBOARD_API_TIMEOUT_MS. Nothing here is logged (keys, tokens,
 * codes and emails included); errors carry the status and the service's error code only.
 */

type CallEnv = Pick<Env, "DASHBOARD_API_URL" | "DASHBOARD_API_TIMEOUT_MS">;

interface Answer {
  status: number;
  body: unknown;
}

async function post(env: CallEnv, path: string, headers: Record<string, string>, body: unknown): Promise<Answer> {
  const base = env.DASHBOARD_API_URL.replace(/\/+$/, "");
  const label = `POST ${path}`;
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method: "POST",
      headers: { ...headers, Accept: "application/json", "Content-Type": "application/json" },
      body: JSON.stringify(body ?? {}),
      redirect: "error",
      signal: AbortSignal.timeout(env.DASHBOARD_API_TIMEOUT_MS),
    });
  } catch (err) {
    const name = (err as { name?: string }).name;
    throw new ServiceCallError(name === "TimeoutError" || name === "AbortError" ? "timeout" : "unreachable", label);
  }
  const text = await res.text().catch(() => "");
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed };
}

function errorCode(body: unknown): string | null {
  if (!body || typeof body !== "object") return null;
  const b = body as { error?: unknown; errors?: Array<{ code?: unknown }> };
  if (typeof b.error === "string") return b.error;
  const first = Array.isArray(b.errors) ? b.errors[0] : undefined;
  return typeof first?.code === "string" ? first.code : null;
}

function expect<S extends z.ZodType>(path: string, answer: Answer, ok: number, schema: S): z.output<S> {
  const label = `POST ${path}`;
  if (answer.status !== ok) throw new ServiceCallError("http", label, answer.status, errorCode(answer.body));
  const parsed = schema.safeParse(answer.body);
  if (!parsed.success) throw new ServiceCallError("invalid_response", label, answer.status);
  return parsed.data;
}

/** webauthn-credential's answers when the console organization's secret key no longer works. */
const SECRET_KEY_REFUSED = new Set(["SecretKeyNotFound", "SecretKeyExpired"]);

/** Whether a failed call was refused for the console organization's secret key (revoked, expired). */
export function secretKeyRefused(err: unknown): boolean {
  return err instanceof ServiceCallError && SECRET_KEY_REFUSED.has(err.code ?? "");
}

const SessionAnswer = z.object({
  session: z.object({ consumerId: z.string(), email: z.string().nullish() }).loose(),
  accessToken: z.string(),
});

const Wrapped = <S extends z.ZodType>(result: S) => z.object({ result, errors: z.array(z.unknown()).optional() });

export function consoleCalls(env: CallEnv, org: ConsoleOrganization) {
  const pk = { "X-Publishable-Key": org.publishableKey };
  const serverAuth = { Authorization: `Basic ${Buffer.from(`:${org.secretKey}`).toString("base64")}` };
  return {
    /** A guest session of the console organization (seed 000): its access token. */
    async guest(): Promise<string> {
      const path = "/api/v1/auth/guest";
      return expect(path, await post(env, path, pk, {}), 200, SessionAnswer).accessToken;
    },
    /** Sends an email code (consumer-auth → otp-delivery). */
    async requestEmailCode(email: string): Promise<void> {
      const path = "/api/v1/auth/otp/request";
      expect(path, await post(env, path, pk, { email }), 200, z.unknown());
    },
    /**
     * Verifies a code: the verified consumer (a guest upgraded in place when `guestToken` is
     * given), or null for a wrong/expired code or too many attempts (consumer-auth's 401/429).
     */
    async verifyEmailCode(
      email: string,
      code: string,
      guestToken: string | null,
    ): Promise<{ consumerId: string; email: string; accessToken: string } | null> {
      const path = "/api/v1/auth/otp/verify";
      const answer = await post(env, path, { ...pk, ...(guestToken ? { Authorization: `Bearer ${guestToken}` } : {}) }, { email, code });
      if (answer.status === 401 || answer.status === 429 || answer.status === 400) return null;
      const s = expect(path, answer, 200, SessionAnswer);
      return { consumerId: s.session.consumerId, email: (s.session.email ?? email).toLowerCase(), accessToken: s.accessToken };
    },
    /** Ends a consumer-auth session of the console organization (the console keeps its own). */
    async logout(accessToken: string): Promise<void> {
      const path = "/api/v1/auth/logout";
      const answer = await post(env, path, { ...pk, Authorization: `Bearer ${accessToken}` }, {});
      if (answer.status !== 204) throw new ServiceCallError("http", `POST ${path}`, answer.status, errorCode(answer.body));
    },
    /** Attaches a passkey registration token (`rtn_…`) to the admin's consumer: the credential id. */
    async attachPasskey(token: string, user: { id: string; handle: string }): Promise<string> {
      const path = "/registration/attach";
      return expect(path, await post(env, path, serverAuth, { token, user }), 200, Wrapped(z.object({ id: z.string() }))).result.id;
    },
    /** Verifies a passkey sign-in token (`atn_…`): the user id it names, or null when refused. */
    async verifyPasskey(token: string): Promise<{ userId: string; credentialId: string | null } | null> {
      const path = "/auth/verify";
      const answer = await post(env, path, serverAuth, { token });
      if (SECRET_KEY_REFUSED.has(errorCode(answer.body) ?? ""))
        throw new ServiceCallError("http", `POST ${path}`, answer.status, errorCode(answer.body));
      if (answer.status >= 400 && answer.status < 500) return null;
      const r = expect(
        path,
        answer,
        200,
        Wrapped(z.object({ user: z.object({ id: z.string() }), credential: z.object({ id: z.string() }).loose().optional() })),
      ).result;
      return { userId: r.user.id, credentialId: r.credential?.id ?? null };
    },
  };
}
