import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** Largest multiple of 62 not above 256: bytes >= 248 are rejected so every character is equally likely. */
const REJECT_FROM = 248;

/** Uniform base62 string from crypto.randomBytes, by rejection sampling (no modulo bias). */
export function randomBase62(length: number): string {
  let out = "";
  while (out.length < length) {
    const buf = randomBytes(length * 2);
    for (const b of buf) {
      if (b >= REJECT_FROM) continue;
      out += BASE62[b % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/**
 * Constant-time comparison of two secrets: both sides are hashed (SHA-256) to a fixed length
 * first, so neither the content nor the length of the expected secret leaks through timing.
 */
export function safeEqual(given: string, expected: string): boolean {
  return timingSafeEqual(createHash("sha256").update(given).digest(), createHash("sha256").update(expected).digest());
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** The token of an `Authorization: Bearer …` header, or null (absent, other scheme, malformed). */
export function bearerToken(header: string | undefined): string | null {
  if (typeof header !== "string") return null;
  return BEARER.exec(header)?.[1] ?? null;
}

/**
 * Postgres 23505 (unique violation) as Prisma reports it: P2002 for model calls, P2010 / the
 * driver adapter's cause for raw statements, or the message of either.
 */
export function isUniqueViolation(err: unknown): boolean {
  if (!err || typeof err !== "object") return false;
  const e = err as {
    code?: unknown;
    meta?: { code?: unknown; driverAdapterError?: { cause?: { kind?: unknown; originalCode?: unknown } } };
    message?: unknown;
  };
  if (e.code === "P2002") return true;
  if (e.meta?.code === "23505") return true;
  const cause = e.meta?.driverAdapterError?.cause;
  if (cause?.kind === "UniqueConstraintViolation" || cause?.originalCode === "23505") return true;
  return typeof e.message === "string" && /23505|unique constraint/i.test(e.message);
}
