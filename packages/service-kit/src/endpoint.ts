import type { Express, NextFunction, Request, RequestHandler, Response, Router } from "express";
import type { z } from "zod";
import { parseInput } from "./errors.js";
import { type RateLimit, rateLimitBy } from "./rate-limit.js";

/**
 * The endpoint builder (issue 11 item 1): an endpoint is declared once (method, path, auth kind,
 * schemas, responses, rate limits, error codes, docs) and that one declaration feeds the Express
 * route (`mount`), the input validation, the typed handler call and the OpenAPI document
 * (`openApiDocument`, openapi.ts).
 *
 * The kit knows auth *kinds*, never how a service implements them: a service names the caller
 * type of each kind it uses (`ApiShape.callers`) and passes one `Authenticator` per kind to
 * `mount`; the handler receives the caller typed, without `res.locals`.
 */

/** How a request is authenticated. The implementations live in the services (`Authenticators`). */
export type AuthKind =
  | "none"
  | "publishableKey"
  | "secretKey"
  | "bearerAccessToken"
  | "operatorToken"
  | "passkeyBasic"
  /** A gateway or internal service (an internal token, or the key it forwards: the service's authenticator decides). */
  | "internalToken"
  /** A signed-in web console user: a server-side session named by an HttpOnly cookie (admin-key's dashboard). */
  | "cookieSession";

export type HttpMethod = "get" | "post" | "put" | "patch" | "delete";

/** The types a service's endpoints share: its deps, the caller of each auth kind it uses, its rate-limit names and error codes. */
export interface ApiShape {
  deps: unknown;
  callers: Partial<Record<Exclude<AuthKind, "none">, unknown>>;
  /** Names of the rate limits endpoints may take (implementations are given to `mount`). */
  limits: string;
  /** The service's error codes (its catalog). */
  codes: string;
}

/** Error codes by HTTP status, e.g. `{ 400: ["InvalidInput"], 409: ["UsernameInUse"] }`. */
export type ErrorsByStatus<Code extends string = string> = { readonly [status: number]: readonly Code[] };

/** OpenAPI security scheme object (the subset the services use). */
export interface SecurityScheme {
  type: "http" | "apiKey";
  scheme?: "basic" | "bearer";
  bearerFormat?: string;
  in?: "header" | "query" | "cookie";
  name?: string;
  description?: string;
}

/** What the document says about one auth kind: its security scheme and the errors it answers. */
export interface AuthDoc<Code extends string = string> {
  /** Name of the scheme in `components.securitySchemes` (unique across the merged document). */
  schemeName: string;
  scheme: SecurityScheme;
  /**
   * Other schemes the same authenticator accepts instead (e.g. an admin endpoint taking the
   * operator token OR the organization's secret key): the document lists each as an alternative
   * security requirement of the operation.
   */
  alternatives?: readonly { schemeName: string; scheme: SecurityScheme }[];
  errors: ErrorsByStatus<Code>;
}

/** What the document says about one rate limit. */
export interface LimitDoc {
  description: string;
}

/**
 * A service's API definition: its wire format and the documentation of its auth kinds and limits.
 * Shared by every endpoint declared with its `endpoint` function.
 */
export interface ApiConfig<S extends ApiShape> {
  /** The wire schema of an error answer with one of `codes` (used by the document and the response validator). */
  errorSchema(codes: readonly [S["codes"], ...S["codes"][]]): z.ZodType;
  /**
   * Success envelope (seed 003 wraps `{result, errors: []}`): `wrap` turns the handler's value into
   * the body sent, `schema` the handler's response schema into the wire schema. Absent: sent as is.
   */
  envelope?: { wrap(value: unknown): unknown; schema(value: z.ZodType): z.ZodType };
  auth: { [K in keyof S["callers"]]-?: AuthDoc<S["codes"]> };
  limits: Record<S["limits"], LimitDoc>;
  /** Errors a rate limit answers (usually `{429: ["TooManyRequests"]}`). */
  limitErrors?: ErrorsByStatus<S["codes"]>;
  /** Errors any endpoint can answer: invalid input (body, hostile input, 413), 500, 503. */
  commonErrors: ErrorsByStatus<S["codes"]>;
  /** Errors of an endpoint that validates input (body/query/params/headers). */
  validationErrors?: ErrorsByStatus<S["codes"]>;
  /** Added to every operation (e.g. a tag). */
  tags?: string[];
}

/** A non-JSON (or documented-only) response: a content type and an optional schema. */
export interface ResponseSpec {
  description?: string;
  /** Default `application/json`. */
  contentType?: string;
  schema?: z.ZodType;
  /** Not wrapped in the API's envelope even if it has one (e.g. an answer relayed verbatim). */
  raw?: boolean;
  /** No body at all (a 204, or a 200 whose answer is its headers): the document declares no content. */
  empty?: boolean;
}

export type ResponseDecl = z.ZodType | ResponseSpec;
export type Responses = { readonly [status: number]: ResponseDecl };

/** Returned by a handler that wrote the response itself (a file, a relayed answer). */
export const SENT: unique symbol = Symbol("endpoint.sent");
export type Sent = typeof SENT;

/** A handler's answer with another declared status than the default success one. */
export class Reply<T = unknown> {
  constructor(
    readonly status: number,
    readonly body: T,
    readonly headers: Record<string, string> = {},
  ) {}
}

type Out<S extends z.ZodType | undefined> = S extends z.ZodType ? z.output<S> : undefined;
type SuccessValue<R extends Responses> = {
  [K in keyof R]: K extends 200 | 201
    ? R[K] extends z.ZodType
      ? z.input<R[K]>
      : R[K] extends { schema: z.ZodType }
        ? z.input<R[K]["schema"]>
        : unknown
    : never;
}[keyof R];

export type CallerOf<S extends ApiShape, A extends AuthKind> = A extends keyof S["callers"] ? S["callers"][A] : undefined;

/** What a handler receives: the caller (typed by the auth kind) and the validated input. */
export interface HandlerInput<S extends ApiShape, A extends AuthKind, B, Q, P, H> {
  caller: CallerOf<S, A>;
  body: Out<B & (z.ZodType | undefined)>;
  query: Out<Q & (z.ZodType | undefined)>;
  params: Out<P & (z.ZodType | undefined)>;
  headers: Out<H & (z.ZodType | undefined)>;
  req: Request;
  res: Response;
}

/** One endpoint as declared (see `defineApi(...).endpoint`). */
export interface EndpointSpec<
  S extends ApiShape,
  A extends AuthKind,
  B extends z.ZodType | undefined,
  Q extends z.ZodType | undefined,
  P extends z.ZodType | undefined,
  H extends z.ZodType | undefined,
  R extends Responses,
> {
  method: HttpMethod;
  /** OpenAPI-style path: `/keys/{id}`; a last segment `{*rest}` matches the rest of the path. */
  path: string;
  auth: A;
  summary: string;
  description?: string;
  tags?: readonly string[];
  operationId?: string;
  body?: B;
  /** Media type of the body (document only; default `application/json`), e.g. `application/x-www-form-urlencoded` for an HTML form. */
  bodyContentType?: string;
  query?: Q;
  params?: P;
  headers?: H;
  /** Responses by status; the lowest 2xx is the status of a plain handler value. */
  responses: R;
  /** Rate limits taken, in order, before auth (implementations given to `mount`). */
  rateLimit?: S["limits"] | readonly S["limits"][];
  /** Error codes this endpoint answers besides its auth's, its limits' and the common ones. */
  errors?: ErrorsByStatus<S["codes"]>;
  /** Middleware run first, before limits and auth (e.g. a CORS echo, so early errors are readable). */
  before?: readonly RequestHandler[];
  /** Answers `OPTIONS` on the path (a CORS preflight; not part of the document). */
  preflight?: RequestHandler;
  handler(deps: S["deps"], input: HandlerInput<S, A, B, Q, P, H>): Promise<SuccessValue<R> | Reply | Sent> | SuccessValue<R> | Reply | Sent;
}

/**
 * Any service's endpoint, for the document generator (which reads declarations only): the types
 * of `api` and `spec` are checked where the endpoint is declared.
 */
export interface AnyEndpoint {
  readonly api: object;
  readonly spec: { readonly method: HttpMethod; readonly path: string };
}

/** An endpoint with its types erased, as `mount` and the document generator take it. */
export interface Endpoint<S extends ApiShape = ApiShape> {
  readonly api: ApiConfig<S>;
  readonly spec: EndpointSpec<
    S,
    AuthKind,
    z.ZodType | undefined,
    z.ZodType | undefined,
    z.ZodType | undefined,
    z.ZodType | undefined,
    Responses
  >;
}

/** A service's API: declare endpoints with `endpoint({...})`. */
export interface Api<S extends ApiShape> {
  readonly config: ApiConfig<S>;
  endpoint<
    A extends "none" | (keyof S["callers"] & AuthKind),
    R extends Responses,
    B extends z.ZodType | undefined = undefined,
    Q extends z.ZodType | undefined = undefined,
    P extends z.ZodType | undefined = undefined,
    H extends z.ZodType | undefined = undefined,
  >(spec: EndpointSpec<S, A, B, Q, P, H, R>): Endpoint<S>;
}

/** Defines a service's API (its shape `S` and config); its `endpoint` declares endpoints. */
export function defineApi<S extends ApiShape>(config: ApiConfig<S>): Api<S> {
  return {
    config,
    endpoint(spec) {
      return { api: config, spec: spec as unknown as Endpoint<S>["spec"] };
    },
  };
}

/** Authenticates a request or throws the service's error; its result is the handler's `caller`. */
export type Authenticator<C> = (req: Request, res: Response) => Promise<C> | C;

/** One authenticator per auth kind of the API (the service's implementations). */
export type Authenticators<S extends ApiShape> = { [K in keyof S["callers"]]-?: Authenticator<S["callers"][K]> };

/**
 * A rate limit's implementation: the kit's `RateLimit` and the key of a request (null: not
 * limited); or `take(req)`, a service's own step that throws its refusal (e.g. several limits taken
 * in one Redis round trip).
 */
export type LimitImpl = { limit: RateLimit; key(req: Request): string | null | undefined } | { take(req: Request): Promise<void> };

export interface MountOptions<S extends ApiShape> {
  deps: S["deps"];
  authenticators: Authenticators<S>;
  limits: Record<S["limits"], LimitImpl>;
}

/** Express path of an OpenAPI-style path: `{id}` -> `:id`, a last `{*rest}` -> `*rest`. */
function expressPath(path: string): string {
  return path.replace(/\{\*([A-Za-z0-9_]+)\}/g, "*$1").replace(/\{([A-Za-z0-9_]+)\}/g, ":$1");
}

/** The status of a plain handler value: the lowest declared 2xx (200 when none). */
function successStatus(responses: Responses): number {
  const ok = Object.keys(responses)
    .map(Number)
    .filter((s) => s >= 200 && s < 300)
    .sort((a, b) => a - b);
  return ok[0] ?? 200;
}

function isResponseSpec(decl: ResponseDecl | undefined): decl is ResponseSpec {
  return decl !== undefined && !("_zod" in (decl as object));
}

/** True when the declared response is sent through the API's envelope. */
export function isEnveloped(api: ApiConfig<ApiShape>, decl: ResponseDecl | undefined): boolean {
  if (!api.envelope) return false;
  if (isResponseSpec(decl)) return !decl.raw && (decl.contentType ?? "application/json") === "application/json";
  return true;
}

/**
 * Wires endpoints into an Express app or router (mount at the app root: the paths are absolute).
 * Per request, in order: `before` middleware, the rate limits (kit `rateLimitBy`), the
 * authenticator of the endpoint's auth kind, validation of params, headers, query and body
 * (`parseInput`: a ValidationError rendered by the service's error format), the handler, then the
 * answer (the lowest declared 2xx, through the API's envelope). Errors go to the app's one error
 * middleware (`createHttpApp().finish(format)`).
 */
export function mount<S extends ApiShape>(router: Router | Express, endpoints: readonly Endpoint<S>[], opts: MountOptions<S>): void {
  for (const { api, spec } of endpoints) {
    const path = expressPath(spec.path);
    const chain: RequestHandler[] = [...(spec.before ?? [])];
    const limitNames = spec.rateLimit === undefined ? [] : typeof spec.rateLimit === "string" ? [spec.rateLimit] : spec.rateLimit;
    for (const name of limitNames as S["limits"][]) {
      const impl = opts.limits[name];
      if (!impl) throw new Error(`mount: no implementation for rate limit "${String(name)}" (${spec.method.toUpperCase()} ${spec.path})`);
      if ("take" in impl) {
        chain.push(async (req: Request, _res: Response, next: NextFunction) => {
          await impl.take(req);
          next();
        });
      } else chain.push(rateLimitBy(impl.limit, impl.key));
    }
    const authenticate =
      spec.auth === "none" ? null : (opts.authenticators as Record<string, Authenticator<unknown> | undefined>)[spec.auth];
    if (spec.auth !== "none" && !authenticate) {
      throw new Error(`mount: no authenticator for "${spec.auth}" (${spec.method.toUpperCase()} ${spec.path})`);
    }
    const status = successStatus(spec.responses);
    const enveloped = isEnveloped(api as unknown as ApiConfig<ApiShape>, spec.responses[status]);
    chain.push(async (req: Request, res: Response, _next: NextFunction) => {
      const caller = authenticate ? await authenticate(req, res) : undefined;
      const input = {
        caller,
        params: spec.params ? parseInput(spec.params, req.params ?? {}) : undefined,
        headers: spec.headers ? parseInput(spec.headers, req.headers) : undefined,
        query: spec.query ? parseInput(spec.query, req.query ?? {}) : undefined,
        body: spec.body ? parseInput(spec.body, req.body ?? {}) : undefined,
        req,
        res,
      } as HandlerInput<S, AuthKind, undefined, undefined, undefined, undefined>;
      const out = await spec.handler(opts.deps, input);
      if (out === SENT) return;
      if (out instanceof Reply) {
        for (const [k, v] of Object.entries(out.headers)) res.setHeader(k, v);
        const wrap = isEnveloped(api as unknown as ApiConfig<ApiShape>, spec.responses[out.status]);
        res.status(out.status).json(wrap && api.envelope ? api.envelope.wrap(out.body) : out.body);
        return;
      }
      res.status(status).json(enveloped && api.envelope ? api.envelope.wrap(out) : out);
    });
    const r = router as Router;
    if (spec.preflight) r.options(path, spec.preflight);
    r[spec.method](path, chain);
  }
}
