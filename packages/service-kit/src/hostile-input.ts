import type { NextFunction, Request, Response } from "express";
import { ValidationError } from "./errors.js";

/**
 * Hostile input refused at the edge, before routing, for every service: one place instead of a
 * refinement on each string schema, and it covers path segments, query strings and JSON bodies
 * alike (also the free-form ones: claims, `user.id`, usernames).
 *
 * - a NUL character anywhere (Postgres text cannot hold it: `22021 invalid byte sequence`, and a
 *   failed query would fail every other request Prisma batched into it);
 * - a string that is not well-formed Unicode (a lone surrogate: Postgres jsonb and UTF-8 reject it);
 * - a path segment or query string that is not valid percent-encoded UTF-8 (Express throws
 *   `URIError` for a path parameter; its query parser would quietly make U+FFFD of it);
 * - the keys `__proto__`, `constructor` and `prototype` (prototype pollution);
 * - JSON nested deeper than `MAX_DEPTH`.
 *
 * Each is a 400 in the service's own error format (the error middleware renders it).
 */
export const MAX_DEPTH = 32;

const POLLUTING_KEYS = new Set(["__proto__", "constructor", "prototype"]);

export interface HostileProblem {
  path: (string | number)[];
  message: string;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `s` cannot be accepted as text, or null. */
export function badText(s: string): string | null {
  if (s.includes("\u0000")) return "must not contain NUL characters";
  if (LONE_SURROGATE.test(s)) return "must be well-formed Unicode (no lone surrogates)";
  return null;
}

/** The first hostile part of a parsed JSON value or query object, or null. */
export function findHostileValue(value: unknown, path: (string | number)[] = [], depth = 0): HostileProblem | null {
  if (typeof value === "string") {
    const why = badText(value);
    return why ? { path, message: `Text ${why}` } : null;
  }
  if (value === null || typeof value !== "object") return null;
  if (depth >= MAX_DEPTH) return { path, message: `Input is nested more than ${MAX_DEPTH} levels deep` };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = findHostileValue(value[i], [...path, i], depth + 1);
      if (p) return p;
    }
    return null;
  }
  for (const key of Object.keys(value)) {
    // Never echo a hostile key back: the path names its parent only.
    const why = badText(key);
    if (why) return { path, message: `A property name ${why}` };
    if (POLLUTING_KEYS.has(key)) return { path, message: `The property name "${key}" is not allowed` };
    const p = findHostileValue((value as Record<string, unknown>)[key], [...path, key], depth + 1);
    if (p) return p;
  }
  return null;
}

/** The first problem in a raw (still percent-encoded) URL path, or null. */
export function findHostilePath(rawPath: string): HostileProblem | null {
  for (const segment of rawPath.split("/")) {
    if (!segment.includes("%")) {
      const why = badText(segment);
      if (why) return { path: ["(path)"], message: `The path ${why}` };
      continue;
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return { path: ["(path)"], message: "The path is not valid percent-encoded UTF-8" };
    }
    const why = badText(decoded);
    if (why) return { path: ["(path)"], message: `The path ${why}` };
  }
  return null;
}

/** The first problem in a raw query string (`a=1&b=%ff`), or null. */
export function findHostileQuery(rawQuery: string): HostileProblem | null {
  for (const part of rawQuery.split(/[&=]/)) {
    if (!part.includes("%")) continue;
    try {
      decodeURIComponent(part.replace(/\+/g, "%20"));
    } catch {
      return { path: ["(query)"], message: "The query string is not valid percent-encoded UTF-8" };
    }
  }
  return null;
}

/** Express middleware (installed by createHttpApp after the body parser): refuses hostile input with a 400. */
export function refuseHostileInput() {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const problem =
      findHostilePath(req.path) ??
      findHostileQuery(req.originalUrl.includes("?") ? req.originalUrl.slice(req.originalUrl.indexOf("?") + 1) : "") ??
      // Express 5 parses the query lazily (getter); a parse that yields hostile strings is refused.
      findHostileValue(req.query, ["(query)"]) ??
      findHostileValue(req.body, []);
    next(problem ? new ValidationError([{ path: problem.path, message: problem.message, code: "hostile_input" }]) : undefined);
  };
}
