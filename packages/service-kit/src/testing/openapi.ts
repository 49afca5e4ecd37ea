import { Ajv2020 } from "ajv/dist/2020.js";
import type { ValidateFunction } from "ajv";
import type { Express } from "express";
import type { OpenApiDocument } from "../openapi.js";

/**
 * Test helpers that hold a service to its OpenAPI document (issue 11 item 4):
 * - `routeCoverage` / `expectRoutesMatchDocument`: the Express app's registered routes against the
 *   document's operations, both ways;
 * - `createResponseValidator` + `validateResponses`: every supertest response checked against the
 *   document's schema for its (method, path, status), so the whole test suite validates the answers.
 */

const METHODS = ["get", "post", "put", "patch", "delete"] as const;

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  rawPath?: string | string[];
  slash?: boolean;
}

/** The document path of an Express route path: `:id` -> `{id}`, `*rest` -> `{rest}`. */
function documentPathOf(expressPath: string): string {
  return expressPath.replace(/\*([A-Za-z0-9_]+)/g, "{$1}").replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

/**
 * Every `METHOD path` the app routes (Express 5 routes, also in routers mounted at the root or
 * under a string path). OPTIONS (CORS preflights) and HEAD are not operations and are left out;
 * middleware mounted with `app.use` (static files, body parser) is not a route.
 */
export function listRoutes(app: Express): string[] {
  const out = new Set<string>();
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const p of paths) {
          for (const [method, on] of Object.entries(layer.route.methods)) {
            if (!on || !(METHODS as readonly string[]).includes(method)) continue;
            out.add(`${method.toUpperCase()} ${documentPathOf(`${prefix}${p}`)}`);
          }
        }
      } else if (layer.handle?.stack) {
        const raw = layer.rawPath;
        const mountPath = layer.slash || raw === undefined || raw === "/" ? "" : typeof raw === "string" ? raw : "";
        walk(layer.handle.stack, `${prefix}${mountPath}`);
      }
    }
  };
  const router = (app as unknown as { router: { stack: Layer[] } }).router;
  walk(router.stack, "");
  return [...out].sort();
}

/** Every `METHOD path` the document describes. */
export function documentedRoutes(doc: OpenApiDocument): string[] {
  const out: string[] = [];
  for (const [path, item] of Object.entries(doc.paths)) for (const method of Object.keys(item)) out.push(`${method.toUpperCase()} ${path}`);
  return out.sort();
}

/** Routes the app has that the document lacks, and operations the document names that the app does not route. */
export function routeCoverage(app: Express, doc: OpenApiDocument): { missingFromDocument: string[]; notInApp: string[] } {
  const routes = new Set(listRoutes(app));
  const documented = new Set(documentedRoutes(doc));
  return {
    missingFromDocument: [...routes].filter((r) => !documented.has(r)),
    notInApp: [...documented].filter((r) => !routes.has(r)),
  };
}

/** Throws, naming each difference, unless the app's routes and the document's operations are the same set. */
export function expectRoutesMatchDocument(app: Express, doc: OpenApiDocument): void {
  const { missingFromDocument, notInApp } = routeCoverage(app, doc);
  if (missingFromDocument.length || notInApp.length) {
    throw new Error(
      [
        missingFromDocument.length ? `routes missing from the OpenAPI document: ${missingFromDocument.join(", ")}` : "",
        notInApp.length ? `operations in the OpenAPI document that the app does not route: ${notInApp.join(", ")}` : "",
      ]
        .filter(Boolean)
        .join("; "),
    );
  }
}

/** What the validator reads of a response (supertest's `Response` has all of it). */
export interface CheckedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
  text?: string;
}

export interface ResponseValidator {
  /** Problems with this response ([] when it matches the document, or the route is not in it). */
  problems(method: string, url: string, res: CheckedResponse): string[];
  /** Throws when `problems` finds any. */
  assert(method: string, url: string, res: CheckedResponse): void;
  /** How many responses were checked against a schema (a test can tell the validator ran). */
  readonly checked: number;
}

/**
 * Validates responses against the document: the status must be declared for the operation, the
 * content type among the declared ones, and a JSON body must match the declared schema
 * (JSON Schema 2020-12, Ajv). Requests to paths or methods the document does not name (unknown
 * paths, CORS preflights) are not checked here: the route-coverage check covers the routes.
 */
export function createResponseValidator(
  doc: OpenApiDocument,
  /** `precompile`: compile every JSON response schema now, not at its first response (a timed request then pays nothing). */
  opts: { precompile?: boolean } = {},
): ResponseValidator {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  const compiled = new Map<string, ValidateFunction>();
  if (opts.precompile) {
    for (const [path, item] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(item))
        for (const [status, response] of Object.entries(op.responses))
          for (const [contentType, media] of Object.entries(response.content ?? {}))
            if (contentType === "application/json") compiled.set(`${method} ${path} ${status} ${contentType}`, ajv.compile(media.schema));
  }
  const templates = Object.keys(doc.paths).map((path) => ({
    path,
    regex: new RegExp(`^${path.replace(/[.+?^$()|[\]\\]/g, "\\$&").replace(/\{[A-Za-z0-9_]+\}/g, "[^/]+")}/?$`, "i"),
  }));
  let checked = 0;
  const problems = (method: string, url: string, res: CheckedResponse): string[] => {
    const pathname = url.replace(/^https?:\/\/[^/]+/, "").split("?")[0] ?? "";
    const template = templates.find((t) => t.path === pathname) ?? templates.find((t) => t.regex.test(pathname));
    const op = template ? doc.paths[template.path]?.[method.toLowerCase()] : undefined;
    if (!template || !op) return [];
    const where = `${method.toUpperCase()} ${template.path} → ${res.status}`;
    const declared = op.responses[String(res.status)];
    if (!declared) return [`${where}: status not declared in the OpenAPI document (declared: ${Object.keys(op.responses).join(", ")})`];
    const contentType =
      String(res.headers["content-type"] ?? "")
        .split(";")[0]
        ?.trim() ?? "";
    const content = declared.content ?? {};
    if (!contentType) return Object.keys(content).length ? [`${where}: no Content-Type, declared ${Object.keys(content).join(", ")}`] : [];
    // OpenAPI media type ranges (`text/*`, `*/*`) cover the types they name.
    const media =
      content[contentType] ??
      (contentType.endsWith("+json") ? content["application/json"] : undefined) ??
      content[`${contentType.split("/")[0]}/*`] ??
      content["*/*"];
    if (!media) return [`${where}: Content-Type ${contentType} not declared (declared: ${Object.keys(content).join(", ") || "none"})`];
    if (contentType !== "application/json" && !contentType.endsWith("+json")) return [];
    const key = `${method} ${template.path} ${res.status} ${contentType}`;
    let validate = compiled.get(key);
    if (!validate) {
      validate = ajv.compile(media.schema);
      compiled.set(key, validate);
    }
    checked++;
    const body = res.body !== undefined ? res.body : res.text ? JSON.parse(res.text) : undefined;
    if (validate(body)) return [];
    return (validate.errors ?? []).map(
      (e) => `${where}: body${e.instancePath || ""} ${e.message ?? "is invalid"}${e.params ? ` ${JSON.stringify(e.params)}` : ""}`,
    );
  };
  return {
    problems,
    assert(method, url, res) {
      const found = problems(method, url, res);
      if (found.length)
        throw new Error(`response does not match the OpenAPI document:\n${found.join("\n")}\nbody: ${JSON.stringify(res.body)}`);
    },
    get checked() {
      return checked;
    },
  };
}

interface ExpectingTest {
  expect(fn: (res: CheckedResponse) => void): unknown;
}

/**
 * Wraps a supertest agent (`supertest(app)`): every request made through it gets an assertion that
 * its response matches the document, so awaiting it fails the test on a mismatch. The agent is
 * otherwise unchanged (same type).
 */
export function validateResponses<T extends object>(agent: T, validator: ResponseValidator): T {
  return new Proxy(agent, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof prop !== "string" || !(METHODS as readonly string[]).includes(prop) || typeof value !== "function") return value;
      return (url: string, ...rest: unknown[]) => {
        const test = (value as (...args: unknown[]) => ExpectingTest).call(target, url, ...rest);
        test.expect((res) => validator.assert(prop, url, res));
        return test;
      };
    },
  });
}
