import { EventType, StreamNames, SubjectNames } from "@authplane/contracts";
import { inboxPrefixFor } from "./nats.js";

/**
 * Who may publish and subscribe what on NATS: the one source of the server authorisation shipped
 * in `infra/nats/nats-server.conf` (written by `node infra/nats/generate.mjs`, checked by a test to
 * match) and of the configurations tests generate for their own subject prefix.
 *
 * Every service gets its own user and only the subjects it needs:
 * - admin-key alone answers `keys.v1.verify` / `orgs.v1.get` (subscribes to the request subjects;
 *   `allow_responses` lets it publish exactly one reply to each request's reply subject);
 * - consumer-auth and webauthn-credential may ask (publish the request subjects) and receive the
 *   replies on their own inbox (`_INBOX.<service>.>`), never on another service's;
 * - consumer-auth alone publishes OTP delivery jobs (`otp.v1.requested`); otp-delivery alone reads
 *   them (its durable consumer on OTP_REQUESTS: consumer info/create, pull, ack); nobody may fetch
 *   stored messages directly (`$JS.API.STREAM.MSG.GET`, `$JS.API.DIRECT.GET` are granted to nobody);
 * - each service publishes only its own events (`auth.<its entities>.v1.*`); admin-key may read
 *   every service's events (`auth.<entities>.v1.*`, core subscriptions) for the console's live tail;
 * - the JetStream API is granted per stream: `$JS.API.INFO` plus info/create/update of the streams
 *   a service declares (no delete, purge, message get or consumer on any other stream).
 */
export type AuthplaneService = "admin-key" | "consumer-auth" | "otp-delivery" | "webauthn-credential";
export const AUTHPLANE_SERVICES: readonly AuthplaneService[] = ["admin-key", "consumer-auth", "otp-delivery", "webauthn-credential"];

export interface NatsPermissions {
  publish: string[];
  subscribe: string[];
  /** The service answers requests: it may publish one reply to each request's reply subject. */
  allowResponses: boolean;
}

export interface NatsAuthzOptions {
  /** NATS_SUBJECT_PREFIX of the services (empty in production). */
  subjectPrefix?: string;
  /** NATS_STREAM_SUFFIX of the services (empty in production). */
  streamSuffix?: string;
  /** otp-delivery's DELIVERY_CONSUMER_NAME (default `otp-delivery`). */
  otpConsumer?: string;
}

/** The environment variable that holds a service's NATS password (or NKey) in the server config. */
export function natsSecretVariable(service: AuthplaneService, auth: "password" | "nkey" = "password"): string {
  return `${service.replace(/-/g, "_").toUpperCase()}_NATS_${auth === "password" ? "PASSWORD" : "NKEY"}`;
}

/** The permissions of every service. */
export function natsPermissions(opts: NatsAuthzOptions = {}): Record<AuthplaneService, NatsPermissions> {
  const p = opts.subjectPrefix ?? "";
  const s = opts.streamSuffix ?? "";
  const durable = opts.otpConsumer ?? "otp-delivery";
  const events = `${StreamNames.events}${s}`;
  const otp = `${StreamNames.otp}${s}`;
  const subject = (name: string) => `${p}${name}`;
  const event = (type: string) => `${p}${SubjectNames.eventsPrefix}${type}`;
  const inbox = (service: AuthplaneService) => `${inboxPrefixFor(service)}.>`;
  /** Declaring a stream: info, create, update (never delete, purge or read its messages). */
  const declare = (stream: string) => [
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.STREAM.CREATE.${stream}`,
    `$JS.API.STREAM.UPDATE.${stream}`,
  ];
  const jsBase = ["$JS.API.INFO", ...declare(events)];
  /** What a KeyVerifier listens to (cache invalidation). */
  const keyChanges = [event(EventType.keyRotated), event(EventType.keyRevoked), event(EventType.organizationSettingsUpdated)];
  const askAdminKey = [subject(SubjectNames.keysVerify), subject(SubjectNames.orgGet)];

  const adminEvents = [event("organizations.v1.*"), event("keys.v1.*")];
  const consumerAuthEvents = [event("consumers.v1.*"), event("sessions.v1.*")];
  /** consumer-auth's own core-NATS subjects between its instances (signing keys). */
  const consumerAuthInternal = subject("consumer-auth.v1.>");
  const otpEvents = [event("otp.v1.*")];
  const webauthnEvents = [event("credentials.v1.*"), event("passkeys.v1.*")];

  return {
    "admin-key": {
      publish: [...jsBase, ...adminEvents],
      // Every service's events, read only: the console's live tail (core subscriptions, no consumer).
      subscribe: [inbox("admin-key"), ...askAdminKey, ...adminEvents, ...consumerAuthEvents, ...otpEvents, ...webauthnEvents],
      allowResponses: true,
    },
    "consumer-auth": {
      publish: [
        ...jsBase,
        ...declare(otp),
        ...askAdminKey,
        subject(SubjectNames.otpRequested),
        ...consumerAuthEvents,
        consumerAuthInternal,
      ],
      subscribe: [inbox("consumer-auth"), ...keyChanges, ...consumerAuthEvents, consumerAuthInternal],
      allowResponses: false,
    },
    "otp-delivery": {
      publish: [
        ...jsBase,
        ...declare(otp),
        `$JS.API.CONSUMER.INFO.${otp}.${durable}`,
        `$JS.API.CONSUMER.CREATE.${otp}.${durable}`,
        `$JS.API.CONSUMER.CREATE.${otp}.${durable}.>`,
        `$JS.API.CONSUMER.DURABLE.CREATE.${otp}.${durable}`,
        `$JS.API.CONSUMER.MSG.NEXT.${otp}.${durable}`,
        `$JS.ACK.${otp}.${durable}.>`,
        ...otpEvents,
      ],
      subscribe: [inbox("otp-delivery"), ...otpEvents],
      allowResponses: false,
    },
    "webauthn-credential": {
      publish: [...jsBase, ...askAdminKey, ...webauthnEvents],
      subscribe: [inbox("webauthn-credential"), ...keyChanges, ...webauthnEvents],
      allowResponses: false,
    },
  };
}

export interface NatsServerConfigOptions extends NatsAuthzOptions {
  /**
   * How services authenticate: `password` (user = service name, password from the variable
   * `<SERVICE>_NATS_PASSWORD`) or `nkey` (the user's public NKey from `<SERVICE>_NATS_NKEY`; the
   * services hold the seeds, the server only public keys). The server resolves the variables from
   * its environment at start-up and refuses to start when one is missing.
   */
  auth?: "password" | "nkey";
}

const q = (v: string) => JSON.stringify(v);

/** The `authorization` block of nats-server.conf (no other server settings: those are flags). */
export function natsServerConfig(opts: NatsServerConfigOptions = {}): string {
  const auth = opts.auth ?? "password";
  const perms = natsPermissions(opts);
  const list = (items: string[]) => `[\n${items.map((i) => `            ${q(i)}`).join("\n")}\n          ]`;
  const users = AUTHPLANE_SERVICES.map((service) => {
    const pm = perms[service];
    const identity =
      auth === "password"
        ? `      user: ${q(service)}\n      password: $${natsSecretVariable(service, "password")}`
        : `      nkey: $${natsSecretVariable(service, "nkey")}`;
    return [
      "    {",
      `      # ${service}`,
      identity,
      "      permissions: {",
      `        publish: { allow: ${list(pm.publish)} }`,
      `        subscribe: { allow: ${list(pm.subscribe)} }`,
      ...(pm.allowResponses ? ["        allow_responses: true"] : []),
      "      }",
      "    }",
    ].join("\n");
  });
  const header = [
    "# NATS authorisation of authplane: one user per service, each allowed only its own subjects.",
    "# GENERATED by `node infra/nats/generate.mjs` from packages/service-kit/src/nats-authz.ts: edit",
    "# that file and regenerate (a test checks that this file matches). Trust model: infra/README.md.",
    `# Credentials come from the server's environment (${AUTHPLANE_SERVICES.map((s) => natsSecretVariable(s, auth)).join(", ")});`,
    "# the server refuses to start while one is missing. A client without valid credentials cannot connect.",
    ...(opts.subjectPrefix || opts.streamSuffix
      ? [`# Subject prefix ${q(opts.subjectPrefix ?? "")}, stream suffix ${q(opts.streamSuffix ?? "")} (test isolation).`]
      : []),
  ];
  return `${header.join("\n")}\n\nauthorization {\n  users: [\n${users.join("\n")}\n  ]\n}\n`;
}
