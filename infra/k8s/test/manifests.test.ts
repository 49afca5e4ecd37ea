// The Kubernetes manifests (infra/k8s): the base and the rendered production overlay validate
// against the Kubernetes API schemas (kubernetes-models), every variable a service needs in
// production reaches its pods (derived from the services' own env schemas), probes hit real
// health endpoints on the real ports, NetworkPolicies let only the edge reach the services, the
// termination grace covers preStop and the drain, and the NATS cluster config is one nats-server
// accepts, with the generated authorisation.
import { beforeAll, describe, expect, it } from "@jest/globals";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Env as AdminKeyEnv } from "@authplane/admin-key";
import { Env as ConsumerAuthEnv } from "@authplane/consumer-auth";
import { Env as OtpDeliveryEnv } from "@authplane/otp-delivery";
import {
  ConfigError,
  createHttpApp,
  createLogger,
  createMetrics,
  importSealPrivateKey,
  importSealPublicKey,
  natsServerConfig,
  openOtpCode,
  parseEnv,
  redactConfig,
  sealOtpCode,
} from "@authplane/service-kit";
import { Env as WebauthnCredentialEnv } from "@authplane/webauthn-credential";
import request from "supertest";
import { renderTemplate, TEMPLATE_PATH, templateVariables } from "../../nginx/render.mjs";
import { type K8sObject, podContainers, podSpec, render, type Untyped } from "./kustomize.js";
import { strictFieldErrors } from "./strict-fields.js";

/** A service's env schema (zod), as parseEnv takes it. */
type Schema = Parameters<typeof parseEnv>[0];

const k8sDir = path.resolve(import.meta.dirname, "..");
const base = path.join(k8sDir, "base");
const production = path.join(k8sDir, "overlays/production");

const SERVICES: Record<string, Schema> = {
  "admin-key": AdminKeyEnv,
  "consumer-auth": ConsumerAuthEnv,
  "otp-delivery": OtpDeliveryEnv,
  "webauthn-credential": WebauthnCredentialEnv,
};
/**
 * After SIGTERM a service keeps serving SHUTDOWN_DELAY_MS (readiness 503), drains HTTP for up to
 * SHUTDOWN_GRACE_MS (packages/service-kit/src/lifecycle.ts), then closes its NATS connection with
 * a drain bounded at 5 s (`withTimeout(nc.drain(), 5_000)`: service-kit core.ts, otp-delivery
 * service.ts); otp-delivery first lets the sends in hand finish (each bounded by DELIVERY_SEND_TIMEOUT_MS).
 */
const NATS_DRAIN_SECONDS = 5;

/** The overlay's secrets/*.env as make-secrets.mjs writes them, from test values for the external ones. */
function makeSecrets(): Map<string, string> {
  const out = mkdtempSync(path.join(tmpdir(), "authplane-k8s-secrets-"));
  try {
    const r = spawnSync(process.execPath, [path.join(k8sDir, "make-secrets.mjs"), "--out", out], {
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: "postgresql://authplane:db-password@postgres.example.internal:5432/authplane",
        REDIS_URL: "redis://:redis-password@redis.example.internal:6379",
        SMTP_PASSWORD: "smtp-password",
      },
      encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(`make-secrets.mjs failed: ${r.stderr}`);
    const files = new Map<string, string>();
    for (const f of readdirSync(out)) files.set(path.join(production, "secrets", f), readFileSync(path.join(out, f), "utf8"));
    return files;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

let baseObjects: K8sObject[];
let prodObjects: K8sObject[];
beforeAll(() => {
  baseObjects = render(base);
  prodObjects = render(production, { files: makeSecrets() });
});

function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const obj = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!obj) throw new Error(`no ${kind} ${name}`);
  return obj;
}

function labelsMatch(
  selector: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] },
  labels: Record<string, string>,
): boolean {
  if (selector.matchExpressions?.length) throw new Error("matchExpressions are not evaluated by this test");
  return Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}

/** Workloads (Deployment, StatefulSet) with their pod labels. */
function workloads(objects: K8sObject[]): Array<{ name: string; obj: K8sObject; labels: Record<string, string> }> {
  return objects
    .filter((o) => o.kind === "Deployment" || o.kind === "StatefulSet")
    .map((o) => ({ name: o.metadata.name, obj: o, labels: o.spec.template.metadata.labels as Record<string, string> }));
}

/** The environment a container gets: env literals and references, envFrom, resolved against the rendered objects. */
function containerEnv(objects: K8sObject[], container: Untyped): { env: Record<string, string>; fromSecret: Set<string> } {
  const env: Record<string, string> = {};
  const fromSecret = new Set<string>();
  const data = (kind: "ConfigMap" | "Secret", name: string): Record<string, string> => {
    const obj = find(objects, kind, name);
    if (kind === "ConfigMap") return obj.data ?? {};
    return Object.fromEntries(
      Object.entries((obj.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, "base64").toString()]),
    );
  };
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, data("ConfigMap", from.configMapRef.name));
    if (from.secretRef) {
      const values = data("Secret", from.secretRef.name);
      Object.assign(env, values);
      for (const k of Object.keys(values)) fromSecret.add(k);
    }
  }
  // env entries win over envFrom (as in Kubernetes).
  for (const e of container.env ?? []) {
    fromSecret.delete(e.name);
    if ("value" in e) env[e.name] = e.value;
    else if (e.valueFrom?.configMapKeyRef)
      env[e.name] = data("ConfigMap", e.valueFrom.configMapKeyRef.name)[e.valueFrom.configMapKeyRef.key] as string;
    else if (e.valueFrom?.secretKeyRef) {
      const value = data("Secret", e.valueFrom.secretKeyRef.name)[e.valueFrom.secretKeyRef.key];
      if (value === undefined)
        throw new Error(`${e.name}: Secret ${e.valueFrom.secretKeyRef.name} has no key ${e.valueFrom.secretKeyRef.key}`);
      env[e.name] = value;
      fromSecret.add(e.name);
    } else if (e.valueFrom?.fieldRef) env[e.name] = `<${e.valueFrom.fieldRef.fieldPath}>`;
  }
  return { env, fromSecret };
}

/** Variable names a ConfigError names ("NAME: message"). */
function problemNames(schema: Schema, env: Record<string, string>): string[] {
  try {
    parseEnv(schema, env);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map((p) => p.split(":")[0] as string);
  }
}

/**
 * What a service needs from its deployment in production, from its own schema: every variable it
 * refuses to start without (named by the schema when nothing is set, or whose removal from a
 * working environment makes it refuse), and every variable whose default points at this machine
 * (127.0.0.1, localhost: right for `npm start`, wrong in a pod).
 */
function requiredInProduction(schema: Schema, working: Record<string, string>): string[] {
  const pointsHere = (value: unknown) => typeof value === "string" && /127\.0\.0\.1|localhost/.test(value);
  const required = new Set(problemNames(schema, { NODE_ENV: "production" }));
  for (const name of Object.keys(working)) {
    const without = { ...working };
    delete without[name];
    if (problemNames(schema, without).length || pointsHere((parseEnv(schema, without) as Record<string, unknown>)[name]))
      required.add(name);
  }
  // Defaults the working environment leaves in place.
  for (const [name, value] of Object.entries(parseEnv(schema, working) as Record<string, unknown>))
    if (pointsHere(value)) required.add(name);
  required.delete("NODE_ENV");
  return [...required].sort();
}

describe("schema validation (kubernetes-models)", () => {
  for (const [name, get] of [
    ["base", () => baseObjects],
    ["production overlay", () => prodObjects],
  ] as const) {
    it(`every object of the ${name} is valid for its apiVersion and kind`, async () => {
      const objects = get();
      expect(objects.length).toBeGreaterThan(20);
      const errors: string[] = [];
      for (const obj of objects) {
        const mod = (await import(`kubernetes-models/${obj.apiVersion}/${obj.kind}`)) as Record<
          string,
          new (
            data: unknown,
          ) => { validate(): void }
        >;
        const Model = mod[obj.kind];
        if (!Model) throw new Error(`no schema for ${obj.apiVersion} ${obj.kind}`);
        try {
          new Model(obj).validate();
        } catch (err) {
          errors.push(`${obj.kind} ${obj.metadata.name}: ${(err as Error).message}`);
        }
      }
      expect(errors).toEqual([]);
    });
  }

  it("no object has a field its kind does not define, or a value of the wrong type (base and overlay)", () => {
    expect(strictFieldErrors([...baseObjects, ...prodObjects], k8sDir)).toEqual([]);
  });

  it("the field check names a misspelt field and a wrong type", () => {
    // TypeScript reports the first problem of each object: one object per mistake.
    const misspelt = structuredClone(find(baseObjects, "Deployment", "admin-key"));
    misspelt.spec.template.spec.containers[0].readinesProbe = misspelt.spec.template.spec.containers[0].readinessProbe;
    const wrongType = structuredClone(find(baseObjects, "Service", "nats"));
    wrongType.spec.publishNotReadyAddresses = "yes";
    const errors = strictFieldErrors([misspelt, wrongType], k8sDir).join("\n");
    expect(errors).toMatch(/Deployment admin-key: Object literal may only specify known properties, and '"readinesProbe"' does not exist/);
    expect(errors).toMatch(/Service nats: Type 'string' is not assignable to type 'boolean \| undefined'/);
  });

  it("rejects an invalid manifest (the validator is not a no-op)", async () => {
    const deployment = structuredClone(find(baseObjects, "Deployment", "admin-key"));
    deployment.spec.template.spec.containers[0].ports[0].containerPort = "http";
    const { Deployment } = await import("kubernetes-models/apps/v1/Deployment");
    expect(() => new Deployment(deployment).validate()).toThrow(/containerPort must be integer/);
  });

  it("every object is namespaced in authplane (except the Namespace itself)", () => {
    for (const obj of prodObjects) {
      if (obj.kind === "Namespace") expect(obj.metadata.name).toBe("authplane");
      else expect(`${obj.kind} ${obj.metadata.name} ${obj.metadata.namespace}`).toBe(`${obj.kind} ${obj.metadata.name} authplane`);
    }
  });
});

describe("production environment of each service", () => {
  for (const [service, schema] of Object.entries(SERVICES)) {
    it(`${service}: the service and its migration container get every variable the schema requires in production, secrets from its Secret`, () => {
      const deployment = find(prodObjects, "Deployment", service);
      const spec = podSpec(deployment);
      const main = spec?.containers.find((c: { name: string }) => c.name === service);
      const migrate = spec?.initContainers.find((c: { name: string }) => c.name === "migrate");
      expect(migrate.command).toEqual(["node", "dist/migrate.js"]);
      expect(migrate.image).toBe(main.image);

      const { env, fromSecret } = containerEnv(prodObjects, main);
      expect(env.NODE_ENV).toBe("production");
      // The whole environment passes the service's own production checks.
      expect(problemNames(schema, env)).toEqual([]);
      const required = requiredInProduction(schema, env);
      // Every one of them is set (a missing one also fails the parse above; this names them).
      expect(required.filter((name) => env[name] === undefined)).toEqual([]);
      // The schema's own production list is among them: the secrets, the NATS credentials and the
      // database, Redis and NATS addresses (their defaults point at this machine).
      expect(required).toEqual(expect.arrayContaining(["DATABASE_URL", "NATS_PASSWORD", "NATS_URL", "NATS_USER", "REDIS_URL"]));
      // Whatever the service would redact from its logs comes from a Secret, never a literal or ConfigMap.
      const redacted = redactConfig(env);
      const secretNames = Object.keys(env).filter((k) => redacted[k] === "[redacted]" || /:[^@/]+@/.test(env[k] ?? ""));
      expect(secretNames.filter((k) => !fromSecret.has(k))).toEqual([]);

      // The migration runs with the same environment as the service.
      expect(containerEnv(prodObjects, migrate).env).toEqual(env);
    });
  }

  it("consumer-auth seals codes to the key otp-delivery opens them with (one generated pair)", () => {
    const auth = containerEnv(prodObjects, podSpec(find(prodObjects, "Deployment", "consumer-auth"))?.containers[0]).env;
    const delivery = containerEnv(prodObjects, podSpec(find(prodObjects, "Deployment", "otp-delivery"))?.containers[0]).env;
    const ctx = { eventId: "evt_1", organizationId: "org_1", mode: "live", requestId: "req_1", channel: "email", to: "a@example.com" };
    const sealed = sealOtpCode("123456", importSealPublicKey(auth.OTP_SEAL_PUBLIC_KEY as string), ctx);
    expect(openOtpCode(sealed, [importSealPrivateKey(delivery.OTP_SEAL_PRIVATE_KEY as string)], ctx)).toBe("123456");
  });

  it("one OPERATOR_TOKEN for the platform: admin-key and the three services with Admin API endpoints get the same value", () => {
    const tokens = Object.keys(SERVICES).map((service) => {
      const { env, fromSecret } = containerEnv(prodObjects, podSpec(find(prodObjects, "Deployment", service))?.containers[0]);
      expect({ service, fromSecret: fromSecret.has("OPERATOR_TOKEN") }).toEqual({ service, fromSecret: true });
      return env.OPERATOR_TOKEN;
    });
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]?.length).toBeGreaterThanOrEqual(32);
  });

  it("NATS gets each service's password from that service's Secret", () => {
    const nats = find(prodObjects, "StatefulSet", "nats");
    const { env } = containerEnv(prodObjects, podSpec(nats)?.containers[0]);
    for (const service of Object.keys(SERVICES)) {
      const serviceEnv = containerEnv(prodObjects, podSpec(find(prodObjects, "Deployment", service))?.containers[0]).env;
      expect(serviceEnv.NATS_USER).toBe(service);
      expect(env[`${service.toUpperCase().replaceAll("-", "_")}_NATS_PASSWORD`]).toBe(serviceEnv.NATS_PASSWORD);
    }
  });
});

describe("probes, ports and shutdown", () => {
  it("each service's probes hit /healthz (liveness, startup) and /readyz (readiness) on the port the service listens on", async () => {
    const { app } = createHttpApp({
      logger: createLogger({ name: "k8s-test", level: "silent" }),
      metrics: createMetrics("k8s_test", { defaultMetrics: false }),
      readiness: {},
      trustProxy: false,
    });
    for (const service of Object.keys(SERVICES)) {
      const deployment = find(prodObjects, "Deployment", service);
      const container = podSpec(deployment)?.containers[0];
      const { env } = containerEnv(prodObjects, container);
      const port = (parseEnv(SERVICES[service] as Schema, env) as { PORT: number }).PORT;
      const named = new Map<string, number>(container.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]));
      const probes = { liveness: container.livenessProbe, readiness: container.readinessProbe, startup: container.startupProbe };
      expect({
        liveness: probes.liveness.httpGet.path,
        readiness: probes.readiness.httpGet.path,
        startup: probes.startup.httpGet.path,
      }).toEqual({
        liveness: "/healthz",
        readiness: "/readyz",
        startup: "/healthz",
      });
      for (const probe of Object.values(probes)) {
        const p = probe.httpGet.port;
        expect(typeof p === "number" ? p : named.get(p)).toBe(port);
        // The path is served by the HTTP app every service is built on (service-kit createHttpApp).
        expect((await request(app).get(probe.httpGet.path)).status).toBe(200);
      }
      // The Service sends traffic to the same port.
      const svc = find(prodObjects, "Service", service);
      const target = svc.spec.ports[0].targetPort;
      expect(typeof target === "number" ? target : named.get(target)).toBe(port);
    }
  });

  it("terminationGracePeriodSeconds is longer than the preStop sleep plus the service's drain", () => {
    for (const service of Object.keys(SERVICES)) {
      const spec = podSpec(find(prodObjects, "Deployment", service));
      const container = spec?.containers[0];
      const env = parseEnv(SERVICES[service] as Schema, containerEnv(prodObjects, container).env) as {
        SHUTDOWN_GRACE_MS: number;
        SHUTDOWN_DELAY_MS: number;
        DELIVERY_SEND_TIMEOUT_MS?: number;
      };
      const [cmd, seconds] = container.lifecycle.preStop.exec.command as [string, string];
      expect(cmd).toBe("sleep");
      const drain = (env.SHUTDOWN_DELAY_MS + env.SHUTDOWN_GRACE_MS + (env.DELIVERY_SEND_TIMEOUT_MS ?? 0)) / 1000 + NATS_DRAIN_SECONDS;
      expect({ service, enough: spec?.terminationGracePeriodSeconds > Number(seconds) + drain }).toEqual({ service, enough: true });
    }
    const nats = podSpec(find(prodObjects, "StatefulSet", "nats"));
    const conf = readFileSync(path.join(base, "nats.conf"), "utf8");
    const seconds = (name: string) => Number(new RegExp(`${name}: "(\\d+)s"`).exec(conf)?.[1]);
    expect(nats?.terminationGracePeriodSeconds).toBeGreaterThan(seconds("lame_duck_duration") + seconds("lame_duck_grace_period"));
  });

  it("every workload has resource requests, a PodDisruptionBudget, and the services and edge an autoscaler that owns the replica count", () => {
    for (const { name, obj, labels } of workloads(prodObjects)) {
      for (const c of podContainers(obj))
        expect({ name, c: c.name, cpu: Boolean(c.resources?.requests?.cpu) }).toEqual({ name, c: c.name, cpu: true });
      const pdbs = prodObjects.filter((o) => o.kind === "PodDisruptionBudget" && labelsMatch(o.spec.selector, labels));
      expect(pdbs.map((p) => p.metadata.name)).toEqual([name]);
      if (obj.kind === "Deployment") {
        const hpa = find(prodObjects, "HorizontalPodAutoscaler", name);
        expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name });
        expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
        expect(obj.spec.replicas).toBeUndefined();
      }
    }
  });

  it("every Service selects the pods of its workload", () => {
    for (const svc of prodObjects.filter((o) => o.kind === "Service")) {
      const selected = workloads(prodObjects).filter((w) => labelsMatch({ matchLabels: svc.spec.selector }, w.labels));
      expect({ svc: svc.metadata.name, selected: selected.map((w) => w.name) }).toEqual({
        svc: svc.metadata.name,
        selected: [svc.metadata.name.replace(/-headless$/, "")],
      });
    }
  });
});

describe("NetworkPolicies", () => {
  type Peer = { podSelector?: { matchLabels?: Record<string, string> }; namespaceSelector?: unknown; ipBlock?: unknown };
  type Rule = { from?: Peer[]; to?: Peer[]; ports?: Array<{ port: number; protocol?: string }> };
  const policies = () => prodObjects.filter((o) => o.kind === "NetworkPolicy");

  /** Which workloads in the namespace may open TCP `port` on the pods of `target` (anything outside counts as "outside"). */
  function allowedIn(target: string, port: number): string[] {
    const t = workloads(prodObjects).find((w) => w.name === target);
    if (!t) throw new Error(target);
    const peers = new Set<string>();
    for (const p of policies()) {
      if (!p.spec.policyTypes.includes("Ingress") || !labelsMatch(p.spec.podSelector, t.labels)) continue;
      for (const rule of (p.spec.ingress ?? []) as Rule[]) {
        if (rule.ports && !rule.ports.some((r) => r.port === port)) continue;
        if (!rule.from) {
          peers.add("outside");
          continue;
        }
        for (const peer of rule.from) {
          if (peer.ipBlock || peer.namespaceSelector) peers.add("outside");
          else for (const w of workloads(prodObjects)) if (labelsMatch(peer.podSelector ?? {}, w.labels)) peers.add(w.name);
        }
      }
    }
    return [...peers].sort();
  }

  /** Whether `source` may open TCP `port` to `target` (a workload name, or "outside"). */
  function allowedOut(source: string, target: string, port: number): boolean {
    const s = workloads(prodObjects).find((w) => w.name === source);
    if (!s) throw new Error(source);
    const t = workloads(prodObjects).find((w) => w.name === target);
    return policies().some(
      (p) =>
        p.spec.policyTypes.includes("Egress") &&
        labelsMatch(p.spec.podSelector, s.labels) &&
        ((p.spec.egress ?? []) as Rule[]).some(
          (rule) =>
            (!rule.ports || rule.ports.some((r) => r.port === port)) &&
            (!rule.to ||
              rule.to.some((peer) =>
                t ? !peer.ipBlock && !peer.namespaceSelector && labelsMatch(peer.podSelector ?? {}, t.labels) : !peer.podSelector,
              )),
        ),
    );
  }

  it("deny everything not allowed, in and out, for every pod", () => {
    const deny = policies().filter((p) => Object.keys(p.spec.podSelector).length === 0 && !p.spec.ingress && !p.spec.egress);
    expect(deny.map((p) => [...p.spec.policyTypes].sort())).toEqual([["Egress", "Ingress"]]);
  });

  it("only the edge reaches the services' HTTP ports (otp-delivery's for its Admin API; nginx never routes /dev/)", () => {
    const ports: Record<string, number> = {};
    for (const service of Object.keys(SERVICES))
      ports[service] = find(prodObjects, "Deployment", service).spec.template.spec.containers[0].ports[0].containerPort;
    expect(allowedIn("admin-key", ports["admin-key"] as number)).toEqual(["edge"]);
    expect(allowedIn("consumer-auth", ports["consumer-auth"] as number)).toEqual(["edge"]);
    expect(allowedIn("webauthn-credential", ports["webauthn-credential"] as number)).toEqual(["edge"]);
    expect(allowedIn("otp-delivery", ports["otp-delivery"] as number)).toEqual(["edge"]);
    // The edge itself is public, and can open exactly the routed services.
    expect(allowedIn("edge", 8080)).toEqual(["outside"]);
    for (const service of ["admin-key", "consumer-auth", "webauthn-credential", "otp-delivery"])
      expect(allowedOut("edge", service, ports[service] as number)).toBe(true);
    expect(allowedOut("edge", "nats", 4222)).toBe(false);
    // The edge's otp-delivery routes are its two Admin API prefixes, never /dev/.
    const template = readFileSync(TEMPLATE_PATH, "utf8");
    const otpRoutes = [...template.matchAll(/"~\^(\S+)\(\?:\[\/\?\]\|\$\)" authplane_otp_delivery;/g)].map((m) => m[1]);
    expect(otpRoutes).toEqual(["/api/v1/otp-deliveries", "/api/v1/stats/otp-deliveries"]);
    expect(template).not.toMatch(/"~\^\/dev/);
  });

  it("admin-key reaches the edge (the dashboard's server-side calls, DASHBOARD_API_URL = the edge Service); no other service does", () => {
    expect(allowedOut("admin-key", "edge", 8080)).toBe(true);
    for (const service of ["consumer-auth", "webauthn-credential", "otp-delivery"]) expect(allowedOut(service, "edge", 8080)).toBe(false);
    const edge = find(prodObjects, "Service", "edge");
    const { env } = containerEnv(prodObjects, podSpec(find(prodObjects, "Deployment", "admin-key"))?.containers[0]);
    expect(env.DASHBOARD_API_URL).toBe(`http://edge:${edge.spec.ports[0].port}`);
    expect(edge.spec.ports[0].targetPort).toBe("http");
    const edgePort = podSpec(find(prodObjects, "Deployment", "edge"))?.containers[0].ports.find((p: { name: string }) => p.name === "http");
    expect(edgePort.containerPort).toBe(8080);
  });

  it("the metrics ports are reached by Prometheus (another namespace) only, never through the edge", () => {
    for (const service of Object.keys(SERVICES)) {
      const container = find(prodObjects, "Deployment", service).spec.template.spec.containers[0];
      const metrics = container.ports.find((p: { name: string }) => p.name === "metrics").containerPort;
      const { env } = containerEnv(prodObjects, container);
      expect((parseEnv(SERVICES[service] as Schema, env) as { METRICS_PORT: number }).METRICS_PORT).toBe(metrics);
      expect({ service, peers: allowedIn(service, metrics) }).toEqual({ service, peers: ["outside"] });
      expect(allowedOut("edge", service, metrics)).toBe(false);
    }
    const scrape = policies().find((p) => p.metadata.name === "services-metrics-from-prometheus");
    expect(scrape?.spec.ingress[0].from).toEqual([
      {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } },
        podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } },
      },
    ]);
  });

  it("the services reach NATS, Postgres and Redis; NATS takes clients from the services only and routes from its peers", () => {
    for (const service of Object.keys(SERVICES)) {
      expect({ service, nats: allowedOut(service, "nats", 4222) }).toEqual({ service, nats: true });
      expect(allowedOut(service, "outside", 5432)).toBe(true);
      expect(allowedOut(service, "outside", 6379)).toBe(true);
      // No service reaches another service directly (they talk over NATS).
      for (const other of Object.keys(SERVICES)) if (other !== service) expect(allowedOut(service, other, 4001)).toBe(false);
    }
    expect(allowedIn("nats", 4222)).toEqual(Object.keys(SERVICES).sort());
    expect(allowedIn("nats", 6222)).toEqual(["nats"]);
    expect(allowedOut("nats", "nats", 6222)).toBe(true);
    // Only otp-delivery reaches mail and SMS providers.
    expect(Object.keys(SERVICES).filter((s) => allowedOut(s, "outside", 587) && allowedOut(s, "outside", 443))).toEqual(["otp-delivery"]);
  });
});

describe("Pod Security", () => {
  it("every pod meets the `restricted` level the namespace enforces (the API server would refuse it otherwise)", () => {
    expect(find(prodObjects, "Namespace", "authplane").metadata.labels?.["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    const problems: string[] = [];
    for (const { name, obj } of workloads(prodObjects)) {
      const pod = podSpec(obj)?.securityContext ?? {};
      for (const c of podContainers(obj)) {
        const sc = c.securityContext ?? {};
        const where = `${name}/${c.name}`;
        if ((sc.runAsNonRoot ?? pod.runAsNonRoot) !== true) problems.push(`${where}: runAsNonRoot`);
        if ((sc.runAsUser ?? pod.runAsUser) === 0) problems.push(`${where}: runAsUser 0`);
        if (sc.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation`);
        if (!sc.capabilities?.drop?.includes("ALL") || (sc.capabilities?.add ?? []).some((cap: string) => cap !== "NET_BIND_SERVICE"))
          problems.push(`${where}: capabilities`);
        if (!["RuntimeDefault", "Localhost"].includes((sc.seccompProfile ?? pod.seccompProfile)?.type))
          problems.push(`${where}: seccompProfile`);
        if (sc.privileged) problems.push(`${where}: privileged`);
      }
      for (const v of podSpec(obj)?.volumes ?? []) if (v.hostPath) problems.push(`${name}: hostPath volume ${v.name}`);
    }
    expect(problems).toEqual([]);
  });
});

describe("references", () => {
  it("every ConfigMap, Secret and key a pod of the overlay uses exists", () => {
    const missing: string[] = [];
    const has = (kind: string, name: string, key?: string) => {
      const obj = prodObjects.find((o) => o.kind === kind && o.metadata.name === name);
      if (!obj) missing.push(`${kind} ${name}`);
      else if (key !== undefined && !(key in (obj.data ?? {}))) missing.push(`${kind} ${name} key ${key}`);
    };
    for (const { obj } of workloads(prodObjects)) {
      for (const c of podContainers(obj)) {
        for (const e of c.envFrom ?? []) {
          if (e.configMapRef) has("ConfigMap", e.configMapRef.name);
          if (e.secretRef) has("Secret", e.secretRef.name);
        }
        for (const e of c.env ?? []) {
          if (e.valueFrom?.configMapKeyRef) has("ConfigMap", e.valueFrom.configMapKeyRef.name, e.valueFrom.configMapKeyRef.key);
          if (e.valueFrom?.secretKeyRef) has("Secret", e.valueFrom.secretKeyRef.name, e.valueFrom.secretKeyRef.key);
        }
      }
      for (const v of podSpec(obj)?.volumes ?? []) {
        if (v.configMap) has("ConfigMap", v.configMap.name);
        for (const src of v.projected?.sources ?? [])
          for (const item of src.configMap?.items ?? []) has("ConfigMap", src.configMap.name, item.key);
      }
    }
    expect(missing).toEqual([]);
  });
});

describe("edge (nginx)", () => {
  it("runs infra/nginx/authplane.conf.template, with every template variable set and the upstreams at the services' Services", () => {
    const edge = find(prodObjects, "Deployment", "edge");
    const spec = podSpec(edge);
    const container = spec?.containers[0];
    const templates = spec?.volumes.find((v: { name: string }) => v.name === "templates");
    expect(container.volumeMounts).toEqual(expect.arrayContaining([{ name: "templates", mountPath: "/etc/nginx/templates" }]));
    // The file itself, not a copy.
    const template = readFileSync(TEMPLATE_PATH, "utf8");
    expect(find(prodObjects, "ConfigMap", templates.configMap.name).data).toEqual({ "authplane.conf.template": template });

    const { env } = containerEnv(prodObjects, container);
    // The image's envsubst substitutes only variables that are set (render.mjs's defaults do not
    // apply there): every one the template uses must be in the Deployment.
    expect(templateVariables(template).filter((name) => env[name] === undefined)).toEqual([]);
    expect(renderTemplate(env)).not.toMatch(/\$\{[A-Z]/);
    // The rendered file goes to a writable conf.d (the root filesystem is read-only).
    const confDir = container.volumeMounts.find((m: { mountPath: string }) => m.mountPath === env.NGINX_ENVSUBST_OUTPUT_DIR);
    expect(spec?.volumes.find((v: { name: string }) => v.name === confDir?.name)?.emptyDir).toBeDefined();

    const http = container.ports.find((p: { name: string }) => p.name === "http").containerPort;
    expect(Number(env.EDGE_LISTEN)).toBe(http);
    for (const [variable, service] of [
      ["CONSUMER_AUTH_UPSTREAM", "consumer-auth"],
      ["ADMIN_KEY_UPSTREAM", "admin-key"],
      ["WEBAUTHN_CREDENTIAL_UPSTREAM", "webauthn-credential"],
      ["OTP_DELIVERY_UPSTREAM", "otp-delivery"],
    ] as const) {
      const svc = find(prodObjects, "Service", service);
      expect(env[variable]).toBe(`${service}:${svc.spec.ports[0].port}`);
    }
    // Its probes use the /healthz nginx answers itself.
    expect(template).toMatch(/location = \/healthz \{/);
    expect([container.livenessProbe.httpGet, container.readinessProbe.httpGet]).toEqual([
      { path: "/healthz", port: "http" },
      { path: "/healthz", port: "http" },
    ]);
  });
});

describe("NATS cluster", () => {
  it("three JetStream nodes whose configuration nats-server accepts, with the authorisation generated from service-kit", () => {
    const nats = find(prodObjects, "StatefulSet", "nats");
    expect(nats.spec.replicas).toBe(3);
    const volume = podSpec(nats)?.volumes.find((v: { name: string }) => v.name === "config");
    const dir = mkdtempSync(path.join(tmpdir(), "authplane-k8s-nats-"));
    try {
      // The projected volume, as the pod sees it.
      for (const source of volume.projected.sources) {
        const cm = find(prodObjects, "ConfigMap", source.configMap.name);
        for (const item of source.configMap.items) writeFileSync(path.join(dir, item.path), cm.data[item.key]);
      }
      expect(readFileSync(path.join(dir, "authorization.conf"), "utf8")).toBe(natsServerConfig({ auth: "password" }));
      const conf = readFileSync(path.join(dir, "nats.conf"), "utf8");
      const routes = [...conf.matchAll(/"nats:\/\/(nats-\d)\.nats-headless:6222"/g)].map((m) => m[1]);
      expect(routes).toEqual(["nats-0", "nats-1", "nats-2"]);
      expect(conf).toMatch(/jetstream \{/);

      const container = podSpec(nats)?.containers[0];
      expect(container.command).toEqual(["nats-server", "--config", "/etc/nats/nats.conf"]);
      const { env } = containerEnv(prodObjects, container);
      const check = (extra: Record<string, string>) =>
        spawnSync("nats-server", ["-t", "-c", path.join(dir, "nats.conf")], {
          env: { PATH: process.env.PATH, ...env, POD_NAME: "nats-0", ...extra },
          encoding: "utf8",
        });
      const ok = check({});
      expect({ status: ok.status, out: `${ok.stdout}${ok.stderr}` }).toEqual({ status: 0, out: expect.stringMatching(/is valid/) });
      // The authorisation really is included: without a service's password the server refuses.
      const env2 = { ...env };
      delete env2.OTP_DELIVERY_NATS_PASSWORD;
      const missing = spawnSync("nats-server", ["-t", "-c", path.join(dir, "nats.conf")], {
        env: { PATH: process.env.PATH, ...env2, POD_NAME: "nats-0" },
        encoding: "utf8",
      });
      expect(missing.status).not.toBe(0);
      expect(`${missing.stdout}${missing.stderr}`).toMatch(/OTP_DELIVERY_NATS_PASSWORD/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the services' streams are replicated on every JetStream node", () => {
    const nats = find(prodObjects, "StatefulSet", "nats");
    const config = find(prodObjects, "ConfigMap", "authplane-config");
    expect(Number(config.data.NATS_STREAM_REPLICAS)).toBe(nats.spec.replicas);
  });

  it("probes on the monitoring port, lame-duck mode on stop", () => {
    const container = podSpec(find(prodObjects, "StatefulSet", "nats"))?.containers[0];
    const conf = readFileSync(path.join(base, "nats.conf"), "utf8");
    const monitor = Number(/http_port: (\d+)/.exec(conf)?.[1]);
    const named = new Map<string, number>(container.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]));
    for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
      expect(named.get(probe.httpGet.port)).toBe(monitor);
      expect(probe.httpGet.path).toMatch(/^\/healthz/);
    }
    expect(container.lifecycle.preStop.exec.command).toEqual(["nats-server", "--signal", `ldm=${/pid_file: "([^"]+)"/.exec(conf)?.[1]}`]);
  });
});

describe("make-secrets.mjs", () => {
  it("keeps the values already written and refuses half a sealing key pair", () => {
    const out = mkdtempSync(path.join(tmpdir(), "authplane-k8s-secrets-"));
    try {
      const run = (env: Record<string, string>) =>
        spawnSync(process.execPath, [path.join(k8sDir, "make-secrets.mjs"), "--out", out], {
          env: { PATH: process.env.PATH, ...env },
          encoding: "utf8",
        });
      const first = run({});
      expect(first.status).toBe(1);
      expect(first.stderr).toMatch(/no value for DATABASE_URL \(admin-key\)/);
      const urls = {
        DATABASE_URL: "postgresql://a:b@db:5432/x",
        REDIS_URL: "redis://redis:6379",
        ADMIN_KEY_DATABASE_URL: "postgresql://admin:c@db:5432/x",
      };
      expect(run(urls).status).toBe(0);
      const before = readFileSync(path.join(out, "webauthn-credential.env"), "utf8");
      expect(readFileSync(path.join(out, "admin-key.env"), "utf8")).toMatch(/^DATABASE_URL=postgresql:\/\/admin:c@db:5432\/x$/m);
      expect(run(urls).status).toBe(0);
      expect(readFileSync(path.join(out, "webauthn-credential.env"), "utf8")).toBe(before);
      // Nothing secret on stdout.
      expect(run(urls).stdout).not.toMatch(/USERNAME_HASH_SECRET|NATS_PASSWORD/);

      // The operator token is one value: one file's is given to the others, two different ones are refused.
      const token = (file: string) => /^OPERATOR_TOKEN=(.*)$/m.exec(readFileSync(path.join(out, file), "utf8"))?.[1];
      const admin = token("admin-key.env");
      for (const f of ["consumer-auth.env", "otp-delivery.env", "webauthn-credential.env"]) expect([f, token(f)]).toEqual([f, admin]);
      const authFile = path.join(out, "consumer-auth.env");
      const authText = readFileSync(authFile, "utf8");
      writeFileSync(authFile, authText.replace(/^OPERATOR_TOKEN=.*$/m, "OPERATOR_TOKEN=another-operator-token-0123456789abcdef"));
      const differs = run(urls);
      expect(differs.status).toBe(1);
      expect(differs.stderr).toMatch(/OPERATOR_TOKEN differs/);
      expect(differs.stderr).not.toContain(admin);
      writeFileSync(authFile, authText.replace(/^OPERATOR_TOKEN=.*\n/m, ""));
      expect(run(urls).status).toBe(0);
      expect(token("consumer-auth.env")).toBe(admin);

      const delivery = path.join(out, "otp-delivery.env");
      writeFileSync(delivery, readFileSync(delivery, "utf8").replace(/^OTP_SEAL_PRIVATE_KEY=.*\n/m, ""));
      const half = run(urls);
      expect(half.status).toBe(1);
      expect(half.stderr).toMatch(/are a pair/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
