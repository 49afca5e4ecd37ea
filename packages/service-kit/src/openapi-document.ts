import type { SecurityScheme } from "./endpoint.js";

/**
 * The OpenAPI document's types and the merge of several documents. No runtime import: the
 * development gateway (which has no dependencies) uses this module and `openapi-html.ts` through
 * `@authplane/service-kit/openapi-document` to serve the merged document and its page.
 */

export type JsonSchema = Record<string, unknown>;

export interface OpenApiOperation {
  operationId: string;
  summary: string;
  description?: string;
  tags?: string[];
  security: Array<Record<string, string[]>>;
  parameters?: Array<{ name: string; in: "path" | "query" | "header"; required: boolean; schema: JsonSchema; description?: string }>;
  requestBody?: { required: boolean; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: JsonSchema }> }>;
  "x-rate-limits"?: Array<{ name: string; description: string }>;
  "x-error-codes"?: Record<string, string[]>;
}

export interface OpenApiDocument {
  openapi: "3.1.0";
  info: { title: string; version: string; description?: string };
  servers?: Array<{ url: string; description?: string }>;
  tags?: Array<{ name: string; description?: string }>;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { securitySchemes: Record<string, SecurityScheme> };
}

export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
  servers?: Array<{ url: string; description?: string }>;
  tags?: Array<{ name: string; description?: string }>;
}

/** Adds a security scheme; the same name defined differently is an error. */
export function addSecurityScheme(doc: OpenApiDocument, name: string, scheme: SecurityScheme): void {
  const existing = doc.components.securitySchemes[name];
  if (existing && JSON.stringify(existing) !== JSON.stringify(scheme)) {
    throw new Error(`openapi: security scheme "${name}" is defined twice, differently`);
  }
  doc.components.securitySchemes[name] = scheme;
}

/**
 * Merges services' documents into one (the development gateway's). `include(path, index)` keeps a
 * path of the `index`-th document (the gateway keeps what it routes to that service, so each
 * service's /healthz or /openapi.json is not claimed by the merged one). The same operation in two
 * documents, or one security scheme name defined differently, is an error.
 */
export function mergeOpenApiDocuments(
  info: OpenApiInfo,
  docs: readonly OpenApiDocument[],
  include: (path: string, index: number) => boolean = () => true,
): OpenApiDocument {
  const merged: OpenApiDocument = {
    openapi: "3.1.0",
    info: { title: info.title, version: info.version, ...(info.description ? { description: info.description } : {}) },
    ...(info.servers ? { servers: info.servers } : {}),
    paths: {},
    components: { securitySchemes: {} },
  };
  const tags = new Map<string, { name: string; description?: string }>();
  for (const t of info.tags ?? []) tags.set(t.name, t);
  docs.forEach((doc, index) => {
    const used = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths)) {
      if (!include(path, index)) continue;
      const target = merged.paths[path] ?? {};
      merged.paths[path] = target;
      for (const [method, op] of Object.entries(item)) {
        if (target[method]) throw new Error(`openapi merge: ${method.toUpperCase()} ${path} is in two documents`);
        target[method] = op;
        for (const s of op.security) for (const name of Object.keys(s)) used.add(name);
        for (const t of op.tags ?? []) if (!tags.has(t)) tags.set(t, doc.tags?.find((d) => d.name === t) ?? { name: t });
      }
    }
    for (const name of used) {
      const scheme = doc.components.securitySchemes[name];
      if (scheme) addSecurityScheme(merged, name, scheme);
    }
  });
  if (tags.size) merged.tags = [...tags.values()];
  return merged;
}

export { renderDocsHtml } from "./openapi-html.js";
