import request from "supertest";
import { z } from "zod";
import { type ApiShape, defineApi, mount, Reply, SENT } from "../src/endpoint.js";
import { AppError, consumerErrorFormat } from "../src/errors.js";
import { createHttpApp, operationalEndpoints } from "../src/http.js";
import { createLogger } from "../src/logger.js";
import { createMetrics } from "../src/metrics.js";
import { docsEndpoints, mergeOpenApiDocuments, openApiDocument } from "../src/openapi.js";
import { renderDocsHtml } from "../src/openapi-html.js";
import { createResponseValidator, expectRoutesMatchDocument, routeCoverage, validateResponses } from "../src/testing/index.js";

// Issue 11 items 1, 2 and 3: the endpoint builder, the OpenAPI document generated from it, and the
// test helpers that hold an app to its document. No infrastructure needed (no rate limit here;
// the services' rate-limit tests cover `rateLimit` against Redis).

interface Shape extends ApiShape {
  deps: { greeting: string };
  callers: { secretKey: { organizationId: string } };
  limits: never;
  codes: "validation_error" | "unauthorized" | "not_found" | "internal_error" | "conflict";
}

const api = defineApi<Shape>({
  errorSchema: (codes) => z.object({ error: z.enum(codes), message: z.string().optional(), issues: z.array(z.unknown()).optional() }),
  auth: {
    secretKey: {
      schemeName: "testSecretKey",
      scheme: { type: "http", scheme: "bearer", description: "sk_…" },
      errors: { 401: ["unauthorized"] },
    },
  },
  limits: {},
  commonErrors: { 500: ["internal_error"] },
  validationErrors: { 400: ["validation_error"] },
});

const Widget = z.object({ id: z.string(), name: z.string(), owner: z.string() });

const endpoints = [
  api.endpoint({
    method: "post",
    path: "/widgets/{id}",
    auth: "secretKey",
    summary: "Rename a widget",
    params: z.object({ id: z.string().startsWith("w_") }),
    body: z.object({ name: z.string().min(1).max(20) }),
    responses: { 200: Widget, 409: Widget },
    errors: { 404: ["not_found"], 409: ["conflict"] },
    handler: (deps, { caller, body, params }) => {
      if (params.id === "w_missing") throw new AppError(404, "not_found", "No such widget.");
      if (body.name === "taken") return new Reply(409, { id: params.id, name: body.name, owner: caller.organizationId });
      return { id: params.id, name: `${deps.greeting} ${body.name}`, owner: caller.organizationId };
    },
  }),
  api.endpoint({
    method: "get",
    path: "/widgets",
    auth: "none",
    summary: "List widgets (text)",
    query: z.object({ limit: z.coerce.number().int().max(10).optional() }),
    responses: { 200: { contentType: "text/plain", description: "One per line." } },
    handler: (_deps, { res, query }) => {
      res.type("text/plain").send(`limit=${query.limit ?? "none"}`);
      return SENT;
    },
  }),
];

function build(opts: { skipList?: boolean } = {}) {
  const { app, finish } = createHttpApp({
    logger: createLogger({ name: "t", level: "silent" }),
    metrics: createMetrics("t", { defaultMetrics: false }),
    readiness: {},
    trustProxy: false,
  });
  const doc = openApiDocument({ title: "Widgets", version: "1" }, [...endpoints, ...operationalEndpoints, ...docsEndpoints]);
  mount(app, opts.skipList ? endpoints.slice(0, 1) : endpoints, {
    deps: { greeting: "hello" },
    authenticators: {
      secretKey: (req) => {
        if (req.headers.authorization !== "Bearer sk_good") throw new AppError(401, "unauthorized");
        return { organizationId: "org_1" };
      },
    },
    limits: {},
  });
  mount(app, docsEndpoints, { deps: { document: () => doc }, authenticators: {}, limits: {} });
  return { app: finish(consumerErrorFormat), doc };
}

describe("mount", () => {
  const { app, doc } = build();
  const http = validateResponses(request(app), createResponseValidator(doc));

  test("auth runs first, then params and body are validated, then the handler gets the typed caller and input", async () => {
    await http.post("/widgets/w_1").send({ name: "x" }).expect(401, { error: "unauthorized" });
    const badParam = await http.post("/widgets/x1").set("Authorization", "Bearer sk_good").send({ name: "x" }).expect(400);
    expect(badParam.body.issues[0].path).toEqual(["id"]);
    const badBody = await http.post("/widgets/w_1").set("Authorization", "Bearer sk_good").send({ name: "" }).expect(400);
    expect(badBody.body.issues[0].path).toEqual(["name"]);
    await http
      .post("/widgets/w_1")
      .set("Authorization", "Bearer sk_good")
      .send({ name: "bolt" })
      .expect(200, { id: "w_1", name: "hello bolt", owner: "org_1" });
  });

  test("a Reply sets another declared status; thrown AppErrors reach the one error middleware; SENT leaves the answer to the handler", async () => {
    await http.post("/widgets/w_1").set("Authorization", "Bearer sk_good").send({ name: "taken" }).expect(409);
    await http.post("/widgets/w_missing").set("Authorization", "Bearer sk_good").send({ name: "a" }).expect(404);
    const text = await http.get("/widgets?limit=3").expect(200);
    expect(text.text).toBe("limit=3");
  });
});

describe("OpenAPI document", () => {
  const { app, doc } = build();

  test("an operation carries its security, parameters, body, responses and every error code by status", () => {
    const op = doc.paths["/widgets/{id}"]?.post;
    expect(op?.security).toEqual([{ testSecretKey: [] }]);
    expect(op?.parameters?.[0]).toMatchObject({ name: "id", in: "path", required: true });
    expect(op?.requestBody?.content["application/json"]?.schema).toMatchObject({ type: "object", required: ["name"] });
    expect(op?.["x-error-codes"]).toEqual({
      400: ["validation_error"],
      401: ["unauthorized"],
      404: ["not_found"],
      409: ["conflict"],
      500: ["internal_error"],
    });
    expect(Object.keys(op?.responses ?? {}).sort()).toEqual(["200", "400", "401", "404", "409", "500"]);
    expect(doc.components.securitySchemes.testSecretKey).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.paths["/widgets"]?.get?.parameters?.[0]).toMatchObject({ name: "limit", in: "query", required: false });
  });

  test("an auth kind with alternatives: each scheme is an alternative security requirement, all registered", () => {
    const alt = defineApi<Shape>({
      ...api.config,
      auth: {
        secretKey: {
          ...api.config.auth.secretKey,
          alternatives: [{ schemeName: "testOperatorToken", scheme: { type: "http", scheme: "bearer", description: "operator" } }],
        },
      },
    });
    const d = openApiDocument({ title: "Alt", version: "1" }, [alt.endpoint({ ...endpoints[0]!.spec, auth: "secretKey" } as never)]);
    expect(d.paths["/widgets/{id}"]?.post?.security).toEqual([{ testSecretKey: [] }, { testOperatorToken: [] }]);
    expect(Object.keys(d.components.securitySchemes).sort()).toEqual(["testOperatorToken", "testSecretKey"]);
  });

  test("the route-coverage check passes for the app and names what differs otherwise", () => {
    expectRoutesMatchDocument(app, doc);
    const partial = build({ skipList: true });
    expect(routeCoverage(partial.app, doc)).toEqual({ missingFromDocument: [], notInApp: ["GET /widgets"] });
    expect(() => expectRoutesMatchDocument(partial.app, doc)).toThrow(/GET \/widgets/);
    const smaller = openApiDocument({ title: "W", version: "1" }, endpoints.slice(1));
    expect(routeCoverage(app, smaller).missingFromDocument).toContain("POST /widgets/{id}");
  });

  test("the response validator refuses undeclared statuses, content types, codes and bodies", () => {
    const v = createResponseValidator(doc);
    const json = { "content-type": "application/json; charset=utf-8" };
    expect(v.problems("post", "/widgets/w_1", { status: 200, headers: json, body: { id: "w_1", name: "a", owner: "o" } })).toEqual([]);
    expect(v.problems("post", "/widgets/w_1", { status: 200, headers: json, body: { id: "w_1" } })[0]).toMatch(/name/);
    expect(v.problems("post", "/widgets/w_1", { status: 418, headers: json, body: {} })[0]).toMatch(/status not declared/);
    expect(v.problems("post", "/widgets/w_1", { status: 404, headers: json, body: { error: "conflict" } })).not.toEqual([]);
    expect(v.problems("get", "/widgets", { status: 200, headers: json, body: {} })[0]).toMatch(
      /Content-Type application\/json not declared/,
    );
    // Paths the document does not name (unknown paths) are the coverage check's business.
    expect(v.problems("get", "/nope", { status: 404, headers: json, body: {} })).toEqual([]);
  });

  test("validateResponses fails a supertest request whose answer breaks the document", async () => {
    const narrow = { ...doc, paths: { ...doc.paths, "/healthz": { get: { ...doc.paths["/healthz"]?.get, responses: {} } } } } as typeof doc;
    const http = validateResponses(request(app), createResponseValidator(narrow));
    await expect(http.get("/healthz").then((r) => r.status)).rejects.toThrow(/status not declared/);
  });

  test("/openapi.json and /docs are served; the page escapes what it prints", async () => {
    const res = await request(app).get("/openapi.json").expect(200);
    expect(res.body).toEqual(JSON.parse(JSON.stringify(doc)));
    const page = await request(app).get("/docs").expect(200);
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    expect(page.text).toContain("/widgets/{id}");
    const html = renderDocsHtml({ ...doc, info: { title: "<script>alert(1)</script>", version: "1" } });
    expect(html).not.toContain("<script>");
  });

  test("merging keeps the chosen paths and refuses the same operation twice", () => {
    const merged = mergeOpenApiDocuments({ title: "All", version: "1" }, [doc, doc], (path, i) =>
      i === 0 ? path.startsWith("/widgets") : path === "/healthz",
    );
    expect(Object.keys(merged.paths).sort()).toEqual(["/healthz", "/widgets", "/widgets/{id}"]);
    expect(Object.keys(merged.components.securitySchemes)).toEqual(["testSecretKey"]);
    expect(() => mergeOpenApiDocuments({ title: "All", version: "1" }, [doc, doc])).toThrow(/in two documents/);
  });
});
