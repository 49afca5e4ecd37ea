import { z } from "zod";
import {
  type AnyEndpoint,
  type ApiConfig,
  type ApiShape,
  type AuthDoc,
  defineApi,
  type Endpoint,
  type ErrorsByStatus,
  isEnveloped,
  type ResponseDecl,
  type ResponseSpec,
  SENT,
} from "./endpoint.js";
import { renderDocsHtml } from "./openapi-html.js";
import { addSecurityScheme, type JsonSchema, type OpenApiDocument, type OpenApiInfo, type OpenApiOperation } from "./openapi-document.js";

export * from "./openapi-document.js";

/**
 * OpenAPI 3.1 from endpoint declarations (issue 11 item 4). Schemas are converted with zod 4's own
 * `z.toJSONSchema` (JSON Schema 2020-12, which OpenAPI 3.1 uses as is): request schemas as their
 * input side (what a client sends: defaults optional, before transforms), response schemas as their
 * output side. No extra dependency, and the zod version is the workspace's one.
 */

/** A zod schema as JSON Schema 2020-12 (without `$schema`); transforms and the like become `{}`. */
export function jsonSchemaOf(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { target: "draft-2020-12", io, unrepresentable: "any" }) as JsonSchema;
  return rest;
}

/** The document path of a declared path: `{*rest}` -> `{rest}`. */
function documentPath(path: string): string {
  return path.replace(/\{\*([A-Za-z0-9_]+)\}/g, "{$1}");
}

function mergeErrors(into: Map<number, Set<string>>, errors: ErrorsByStatus | undefined): void {
  for (const [status, codes] of Object.entries(errors ?? {})) {
    const set = into.get(Number(status)) ?? new Set<string>();
    for (const c of codes) set.add(c);
    into.set(Number(status), set);
  }
}

function parametersOf(schema: z.ZodType | undefined, where: "path" | "query" | "header"): NonNullable<OpenApiOperation["parameters"]> {
  if (!schema) return [];
  const json = jsonSchemaOf(schema, "input");
  const props = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required as string[] | undefined) ?? []);
  return Object.entries(props).map(([name, s]) => ({
    name,
    in: where,
    required: where === "path" || required.has(name),
    schema: s,
    ...(typeof s.description === "string" ? { description: s.description } : {}),
  }));
}

const STATUS_TEXT: Record<number, string> = {
  200: "OK",
  201: "Created",
  204: "No content",
  400: "Bad request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not found",
  409: "Conflict",
  413: "Payload too large",
  422: "Unprocessable",
  429: "Too many requests",
  500: "Internal error",
  503: "Service unavailable",
  504: "Gateway timeout",
};

function responseSchema(api: ApiConfig<ApiShape>, decl: ResponseDecl): { contentType: string; schema?: JsonSchema; description?: string } {
  const spec: ResponseSpec = "_zod" in (decl as object) ? { schema: decl as z.ZodType } : (decl as ResponseSpec);
  const contentType = spec.contentType ?? "application/json";
  if (!spec.schema) return { contentType, description: spec.description };
  const wire = isEnveloped(api, decl) && api.envelope ? api.envelope.schema(spec.schema) : spec.schema;
  return { contentType, schema: jsonSchemaOf(wire, "output"), description: spec.description };
}

/** One operation of the document from one endpoint. */
function operationOf(endpoint: Endpoint<ApiShape>): OpenApiOperation {
  const { spec } = endpoint;
  const api = endpoint.api as ApiConfig<ApiShape>;
  const auth = spec.auth === "none" ? null : (api.auth as Record<string, AuthDoc | undefined>)[spec.auth];
  if (spec.auth !== "none" && !auth) throw new Error(`openapi: no AuthDoc for "${spec.auth}" (${spec.method.toUpperCase()} ${spec.path})`);
  const errors = new Map<number, Set<string>>();
  mergeErrors(errors, api.commonErrors);
  if (spec.body || spec.query || spec.params || spec.headers) mergeErrors(errors, api.validationErrors);
  if (auth) mergeErrors(errors, auth.errors);
  const limitNames = spec.rateLimit === undefined ? [] : typeof spec.rateLimit === "string" ? [spec.rateLimit] : [...spec.rateLimit];
  if (limitNames.length) mergeErrors(errors, api.limitErrors);
  mergeErrors(errors, spec.errors);

  const responses: OpenApiOperation["responses"] = {};
  for (const [status, decl] of Object.entries(spec.responses)) {
    const r = responseSchema(api, decl);
    const empty = !("_zod" in (decl as object)) && (decl as ResponseSpec).empty === true;
    responses[status] = {
      description: r.description ?? STATUS_TEXT[Number(status)] ?? `HTTP ${status}`,
      ...(empty ? {} : { content: { [r.contentType]: { schema: r.schema ?? {} } } }),
    };
  }
  const errorCodes: Record<string, string[]> = {};
  for (const [status, set] of [...errors.entries()].sort(([a], [b]) => a - b)) {
    const codes = [...set].sort();
    errorCodes[status] = codes;
    const schema = jsonSchemaOf(api.errorSchema(codes as [string, ...string[]]), "output");
    const existing = responses[status];
    if (existing) {
      // A declared response with this status (e.g. /readyz's 503): errors may come as JSON too.
      existing.content = { ...existing.content, ...(existing.content?.["application/json"] ? {} : { "application/json": { schema } }) };
      existing.description += ` Error codes: ${codes.join(", ")}.`;
    } else {
      responses[status] = {
        description: `${STATUS_TEXT[Number(status)] ?? `HTTP ${status}`}. Error codes: ${codes.join(", ")}.`,
        content: { "application/json": { schema } },
      };
    }
  }

  const parameters = [...parametersOf(spec.params, "path"), ...parametersOf(spec.query, "query"), ...parametersOf(spec.headers, "header")];
  const tags = [...(spec.tags ?? []), ...(api.tags ?? [])];
  return {
    operationId: spec.operationId ?? defaultOperationId(spec.method, spec.path),
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    ...(tags.length ? { tags } : {}),
    security: auth ? [auth, ...(auth.alternatives ?? [])].map((a) => ({ [a.schemeName]: [] })) : [],
    ...(parameters.length ? { parameters } : {}),
    ...(spec.body
      ? {
          requestBody: {
            required: true,
            content: { [spec.bodyContentType ?? "application/json"]: { schema: jsonSchemaOf(spec.body, "input") } },
          },
        }
      : {}),
    responses,
    ...(limitNames.length
      ? {
          "x-rate-limits": limitNames.map((name) => ({
            name,
            description: (api.limits as Record<string, { description: string }>)[name]?.description ?? "",
          })),
        }
      : {}),
    "x-error-codes": errorCodes,
  };
}

function defaultOperationId(method: string, path: string): string {
  const words = path
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]?.toUpperCase() + w.slice(1));
  return `${method}${words.join("")}`;
}

/** The OpenAPI 3.1 document of a service's endpoints. */
export function openApiDocument(info: OpenApiInfo, endpoints: readonly AnyEndpoint[]): OpenApiDocument {
  const doc: OpenApiDocument = {
    openapi: "3.1.0",
    info: { title: info.title, version: info.version, ...(info.description ? { description: info.description } : {}) },
    ...(info.servers ? { servers: info.servers } : {}),
    ...(info.tags ? { tags: info.tags } : {}),
    paths: {},
    components: { securitySchemes: {} },
  };
  for (const endpoint of endpoints as unknown as ReadonlyArray<Endpoint<ApiShape>>) {
    const { spec } = endpoint;
    const path = documentPath(spec.path);
    const item = doc.paths[path] ?? {};
    doc.paths[path] = item;
    if (item[spec.method]) throw new Error(`openapi: ${spec.method.toUpperCase()} ${path} is declared twice`);
    item[spec.method] = operationOf(endpoint);
    if (spec.auth !== "none") {
      const auth = (endpoint.api.auth as Record<string, AuthDoc | undefined>)[spec.auth];
      for (const a of auth ? [auth, ...(auth.alternatives ?? [])] : []) addSecurityScheme(doc, a.schemeName, a.scheme);
    }
  }
  return doc;
}

// ---- /openapi.json and /docs, declared with the builder ----

interface DocsShape extends ApiShape {
  deps: { document(): OpenApiDocument };
  callers: Record<never, never>;
  limits: never;
  codes: string;
}

/** The kit's own endpoints answer errors in whatever format the service installed; documented loosely. */
const AnyErrorBody = z.object({}).passthrough().describe("An error in the service's error format.");

const docsApi = defineApi<DocsShape>({
  errorSchema: () => AnyErrorBody,
  auth: {},
  limits: {},
  commonErrors: { 500: ["internal error"] },
  tags: ["Reference"],
});

/** `GET /openapi.json` and `GET /docs`: mount with `{ deps: { document } }` (the document is built once). */
export const docsEndpoints = [
  docsApi.endpoint({
    method: "get",
    path: "/openapi.json",
    auth: "none",
    summary: "This API's OpenAPI 3.1 document",
    responses: { 200: { description: "The OpenAPI document.", schema: z.object({ openapi: z.string() }).passthrough() } },
    handler: (deps) => deps.document() as unknown as { openapi: string },
  }),
  docsApi.endpoint({
    method: "get",
    path: "/docs",
    auth: "none",
    summary: "This API's reference, as a web page",
    description: "A self-contained HTML page rendered on the server from the OpenAPI document (no script, no external resource).",
    responses: { 200: { description: "The reference page.", contentType: "text/html" } },
    handler: (deps, { res }) => {
      res.status(200).type("html").send(renderDocsHtml(deps.document()));
      return SENT;
    },
  }),
];

/** Builds the document on first use and keeps it (endpoint declarations do not change at run time). */
export function lazyDocument(build: () => OpenApiDocument): () => OpenApiDocument {
  let doc: OpenApiDocument | undefined;
  return () => {
    doc ??= build();
    return doc;
  };
}
