import fc from "fast-check";
import type { z } from "zod";

/**
 * Property-based hostile-input testing shared by the four services: generated bad requests
 * (NUL, lone surrogates, huge strings, wrong types, deep nesting, `__proto__`/`constructor` keys,
 * broken percent-encoding in path segments and query strings, unreadable JSON) are sent to an
 * endpoint in concurrent batches together with valid requests. Every bad request must get a 4xx
 * in the API's own error format, and every valid request sent alongside must still succeed (one
 * request must never fail another, e.g. through a batched database query).
 */

export interface FuzzTarget {
  /** Shown in failures, e.g. "POST /api/v1/auth/guest". */
  name: string;
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** Path with `:name` placeholders for `params`. */
  path: string;
  /** Valid values of the path placeholders (each may be replaced by a hostile segment). */
  params?: Record<string, string>;
  headers?: Record<string, string>;
  /** A valid body; hostile variants replace its fields (and the contract's) with bad values. */
  body?: unknown;
  /** The endpoint's zod request schema (its field paths are fuzzed too). */
  schema?: z.ZodType;
  /** Query parameter names to fuzz (GET endpoints). */
  query?: string[];
}

export interface RawRequest {
  method: string;
  /** Already percent-encoded path and query. */
  url: string;
  headers: Record<string, string>;
  /** Raw JSON text (so that `__proto__` keys and escaped lone surrogates go out as generated). */
  body?: string;
  /** What was made hostile (for failure messages). */
  what: string;
  /**
   * True when the request must be refused (NUL, lone surrogates, broken encoding, pollution keys,
   * deep nesting, unreadable JSON); false when it is only odd (a wrong type or unusual text in a
   * field that may accept it): then any answer but a 5xx is fine, and an error must have the format.
   */
  mustRefuse: boolean;
}

/** Field paths of a zod object schema (nested objects included), for fuzzing. */
export function schemaPaths(schema: z.ZodType | undefined, prefix: string[] = [], depth = 0): string[][] {
  if (!schema || depth > 4) return [];
  const def = (schema as unknown as { def?: Record<string, unknown> }).def ?? {};
  const inner = (def.innerType ?? def.in ?? def.schema) as z.ZodType | undefined;
  if (def.type === "object") {
    const shape = (schema as unknown as { shape: Record<string, z.ZodType> }).shape;
    return Object.entries(shape).flatMap(([k, v]) => [[...prefix, k], ...schemaPaths(v, [...prefix, k], depth + 1)]);
  }
  if (inner) return schemaPaths(inner, prefix, depth + 1);
  return [];
}

function valuePaths(value: unknown, prefix: string[] = [], depth = 0): string[][] {
  if (!value || typeof value !== "object" || Array.isArray(value) || depth > 4) return [];
  return Object.entries(value).flatMap(([k, v]) => [[...prefix, k], ...valuePaths(v, [...prefix, k], depth + 1)]);
}

function nest(levels: number): unknown {
  let v: unknown = "x";
  for (let i = 0; i < levels; i++) v = i % 2 ? [v] : { a: v };
  return v;
}

const text = fc.string({ maxLength: 12 });

/** Strings that must be refused: NUL, lone surrogates, or too large for any body. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(text, text).map(([a, b]) => `${a}\u0000${b}`),
  fc.tuple(text, fc.integer({ min: 0xd800, max: 0xdfff }), text).map(([a, c, b]) => `${a}${String.fromCharCode(c)}${b}`),
  fc.integer({ min: 66_000, max: 90_000 }).map((n) => "x".repeat(n)),
);

/** Values that must be refused wherever they appear. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.integer({ min: 33, max: 300 }).map(nest) },
  {
    weight: 1,
    arbitrary: fc.constantFrom("__proto__", "constructor", "prototype").map((k) => JSON.parse(`{"${k}":{"polluted":true}}`) as unknown),
  },
  { weight: 1, arbitrary: fc.array(hostileString, { minLength: 1, maxLength: 3 }) },
);

/** Odd values a field may or may not accept (wrong types, unusual or long text): never a 5xx. */
export const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant([]), fc.constant({})),
  fc.string16bits({ maxLength: 16 }).map((s) => s.replace(/[\uD800-\uDFFF]/g, "").replaceAll("\u0000", "")),
  fc.fullUnicodeString({ maxLength: 16 }).map((s) => s.replaceAll("\u0000", "")),
  fc.integer({ min: 300, max: 20_000 }).map((n) => "é".repeat(n)),
  fc
    .anything({ maxDepth: 2, maxKeys: 3 })
    .map((v) => JSON.parse(JSON.stringify(v ?? null).replace(/\\u0000|\\ud[89a-f][0-9a-f]{2}/gi, "")) as unknown),
);

/** Path segments / query values that must be refused: NUL, or not percent-encoded UTF-8. */
export const hostileSegment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("%ff", "%E0%A4%A", "%ED%A0%80", "%00", "a%00b", "%", "%zz", "%C0%AF", "%F4%90%80%80"),
  fc.string16bits({ maxLength: 8 }).map((s) => `${encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, ""))}%00`),
);

/** Path segments that are odd but not invalid (not found, or refused by the route). */
export const oddSegment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("..%2F..%2Fetc", "%EF%BF%BE", "%2e%2e", "%20", "org_%F0%9F%94%91"),
  fc.integer({ min: 200, max: 6000 }).map((n) => "x".repeat(n)),
);

function setAt(target: Record<string, unknown>, path: string[], value: unknown): void {
  let obj = target;
  for (const k of path.slice(0, -1)) {
    const next = obj[k];
    if (!next || typeof next !== "object" || Array.isArray(next)) obj[k] = {};
    obj = obj[k] as Record<string, unknown>;
  }
  const last = path[path.length - 1];
  if (last !== undefined) Object.defineProperty(obj, last, { value, enumerable: true, writable: true, configurable: true });
}

function buildUrl(t: FuzzTarget, params: Record<string, string>, query = ""): string {
  const path = t.path.replace(/:([A-Za-z]+)/g, (_, name: string) => params[name] ?? encodeURIComponent(t.params?.[name] ?? ""));
  return query ? `${path}?${query}` : path;
}

/** Hostile (and odd) requests for one endpoint. */
export function hostileRequests(t: FuzzTarget): fc.Arbitrary<RawRequest> {
  const headers = { "content-type": "application/json", ...t.headers };
  const validBody = t.body === undefined ? undefined : JSON.stringify(t.body);
  const base = (what: string, url: string, body: string | undefined, mustRefuse = true): RawRequest => ({
    method: t.method,
    url,
    headers,
    body,
    what,
    mustRefuse,
  });
  const fields = [...valuePaths(t.body), ...schemaPaths(t.schema)];
  const unique = [...new Map(fields.map((p) => [p.join("."), p])).values()];
  const withField = (path: string[], value: unknown) => {
    const body = JSON.parse(validBody ?? "{}") as Record<string, unknown>;
    setAt(body, path, value);
    return JSON.stringify(body);
  };
  const variants: Array<{ weight: number; arbitrary: fc.Arbitrary<RawRequest> }> = [];
  if (t.method !== "GET") {
    if (unique.length) {
      const field = fc.constantFrom(...unique);
      variants.push(
        {
          weight: 4,
          arbitrary: fc.tuple(field, hostileValue).map(([p, v]) => base(`body.${p.join(".")}`, buildUrl(t, {}), withField(p, v))),
        },
        {
          weight: 2,
          arbitrary: fc.tuple(field, oddValue).map(([p, v]) => base(`odd body.${p.join(".")}`, buildUrl(t, {}), withField(p, v), false)),
        },
      );
    }
    variants.push(
      {
        weight: 1,
        arbitrary: fc
          .oneof(hostileString, fc.integer({ min: 33, max: 300 }).map(nest), fc.array(hostileString, { minLength: 1, maxLength: 2 }))
          .map((value) => base("whole body", buildUrl(t, {}), JSON.stringify(value))),
      },
      {
        weight: 2,
        arbitrary: fc
          .tuple(fc.constantFrom("__proto__", "constructor", "prototype"), fc.constantFrom(...(unique.length ? unique : [[]])))
          .map(([key, at]) => base(`${key} key`, buildUrl(t, {}), withField([...at.slice(0, -1), key], { polluted: true }))),
      },
      {
        weight: 1,
        arbitrary: fc
          .constantFrom("{", "[", '{"a":', "nul", '"\\ud800', '{"a":"\\u0000"}', "\u0000", '{"a":1}}')
          .map((raw) => base("raw body", buildUrl(t, {}), raw)),
      },
    );
  }
  const params = Object.keys(t.params ?? {});
  if (params.length) {
    const name = fc.constantFrom(...params);
    variants.push(
      { weight: 3, arbitrary: fc.tuple(name, hostileSegment).map(([n, seg]) => base(`path :${n}`, buildUrl(t, { [n]: seg }), validBody)) },
      {
        weight: 1,
        arbitrary: fc.tuple(name, oddSegment).map(([n, seg]) => base(`odd path :${n}`, buildUrl(t, { [n]: seg }), validBody, false)),
      },
    );
  }
  const queryNames = [...(t.query ?? []), "x"];
  variants.push({
    weight: 2,
    arbitrary: fc.tuple(fc.constantFrom(...queryNames), hostileSegment, fc.boolean()).map(([n, seg, twice]) => {
      const q = twice ? `${n}=a&${n}=${seg}` : `${n}=${seg}`;
      return base(`query ${n}`, buildUrl(t, {}, q), validBody);
    }),
  });
  return fc.oneof(...variants);
}

export interface FuzzOptions {
  /** Base URL of the service under test (listening on 127.0.0.1). */
  baseUrl: string;
  targets: FuzzTarget[];
  /** Sends one valid request and throws unless it succeeded (run concurrently with hostile ones). */
  valid: () => Promise<void>;
  /** Is this the API's error format? (seed 000 `{error, message}` or seed 003 `{result: null, errors}`) */
  isErrorBody: (body: unknown, url: string) => boolean;
  /** Hostile requests per endpoint (bounded for run time). */
  runsPerTarget: number;
  /** Hostile and valid requests in flight together. */
  batch?: number;
  seed?: number;
}

export interface FuzzReport {
  hostile: number;
  valid: number;
  statuses: Record<string, number>;
}

/**
 * Sends `runsPerTarget` hostile requests to each target in batches of `batch`, each batch
 * concurrently with `batch` valid requests; throws (with the request) on the first 5xx, non-4xx,
 * wrong error shape, or failed valid request.
 */
export async function fuzzEndpoints(opts: FuzzOptions): Promise<FuzzReport> {
  const batch = opts.batch ?? 8;
  const report: FuzzReport = { hostile: 0, valid: 0, statuses: {} };
  for (const target of opts.targets) {
    const requests = fc.sample(hostileRequests(target), { numRuns: opts.runsPerTarget, seed: opts.seed ?? 4242 });
    for (let i = 0; i < requests.length; i += batch) {
      const chunk = requests.slice(i, i + batch);
      const valid = chunk.map(() => opts.valid().then(() => void report.valid++));
      const hostile = chunk.map(async (r) => {
        const res = await fetch(opts.baseUrl + r.url, { method: r.method, headers: r.headers, body: r.body });
        const raw = await res.text();
        report.hostile++;
        report.statuses[res.status] = (report.statuses[res.status] ?? 0) + 1;
        let body: unknown = null;
        try {
          body = JSON.parse(raw);
        } catch {
          /* checked below */
        }
        const refusedWell = res.status >= 400 && res.status < 500 && opts.isErrorBody(body, r.url);
        const ok = r.mustRefuse ? refusedWell : res.status < 400 || refusedWell;
        if (!ok) {
          throw new Error(
            `${target.name} (${r.what}): ${res.status} ${raw.slice(0, 300)}\n  request: ${r.method} ${r.url.slice(0, 200)} ${String(r.body).slice(0, 300)}`,
          );
        }
      });
      const results = await Promise.allSettled([...hostile, ...valid]);
      const failed = results.find((x): x is PromiseRejectedResult => x.status === "rejected");
      if (failed) throw failed.reason;
    }
  }
  if (({} as Record<string, unknown>).polluted !== undefined) throw new Error("Object.prototype was polluted");
  return report;
}

/** Seed 000 error body: `{error: string, message?: string}`. */
export function isConsumerErrorBody(body: unknown): boolean {
  const b = body as { error?: unknown; message?: unknown } | null;
  return !!b && typeof b.error === "string" && (b.message === undefined || typeof b.message === "string");
}

/** Seed 003 wrapped error body: `{result: null, errors: [{code, message}]}`. */
export function isWrappedErrorBody(body: unknown): boolean {
  const b = body as { result?: unknown; errors?: Array<{ code?: unknown; message?: unknown }> } | null;
  return (
    !!b && b.result === null && Array.isArray(b.errors) && typeof b.errors[0]?.code === "string" && typeof b.errors[0]?.message === "string"
  );
}
