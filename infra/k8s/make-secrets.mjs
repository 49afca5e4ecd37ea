#!/usr/bin/env node
// Writes the production overlay's Secret sources, one env file per service
// (infra/k8s/overlays/production/secrets/<service>.env, git-ignored):
//   DATABASE_URL=postgresql://authplane:…@db.internal:5432/authplane \
//   REDIS_URL=rediss://:…@redis.internal:6379 \
//   SMTP_PASSWORD=… SMS_AUTH_TOKEN=… node infra/k8s/make-secrets.mjs [--out <dir>]
// Random values are generated for every secret that is ours to choose (tokens, HMAC and
// encryption keys, one NATS password per service, the OTP sealing key pair). A value already in
// a file is kept: run it again after an upgrade to add new keys without changing the old ones
// (USERNAME_HASH_SECRET and SIGNING_KEY_ENCRYPTION_KEY must never change). Rotate a value by
// deleting its line (OPERATOR_TOKEN: from all four files, it is one value). `<SERVICE>_DATABASE_URL` (e.g. ADMIN_KEY_DATABASE_URL) gives one service its
// own Postgres role. Nothing is printed but the file names.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outIndex = args.indexOf("--out");
const out = outIndex >= 0 ? path.resolve(args[outIndex + 1] ?? "") : path.join(here, "overlays/production/secrets");

/** 48 random bytes, base64url: 64 characters, above every service's minimum (32). */
const random = () => randomBytes(48).toString("base64url");
/**
 * NATS reads a password through a variable reference (`password: $ADMIN_KEY_NATS_PASSWORD`) and
 * parses the value as configuration: one starting with `-` or a digit is taken for a number and
 * the server refuses to start, `yes`/`true`… are booleans. A letter then hex digits is always a string.
 */
const natsPassword = () => `n${randomBytes(32).toString("hex")}`;

function sealKeyPair() {
  const { privateKey, publicKey } = generateKeyPairSync("x25519");
  return { publicKey: publicKey.export({ format: "jwk" }).x, privateKey: privateKey.export({ format: "jwk" }).d };
}

function readEnvFile(file) {
  const values = new Map();
  if (!existsSync(file)) return values;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) values.set(m[1], m[2]);
  }
  return values;
}

function external(name, service) {
  const own = process.env[`${service.toUpperCase().replaceAll("-", "_")}_${name}`];
  return own ?? process.env[name];
}

const existing = Object.fromEntries(
  ["admin-key", "consumer-auth", "otp-delivery", "webauthn-credential"].map((s) => [s, readEnvFile(path.join(out, `${s}.env`))]),
);

// The sealing pair lives in two files: keep it only when both halves are there.
const publicKey = existing["consumer-auth"].get("OTP_SEAL_PUBLIC_KEY");
const privateKey = existing["otp-delivery"].get("OTP_SEAL_PRIVATE_KEY");
if (Boolean(publicKey) !== Boolean(privateKey)) {
  process.stderr.write(
    "OTP_SEAL_PUBLIC_KEY (consumer-auth.env) and OTP_SEAL_PRIVATE_KEY (otp-delivery.env) are a pair: delete both lines to make a new pair\n",
  );
  process.exit(1);
}
const seal = publicKey && privateKey ? { publicKey, privateKey } : sealKeyPair();

// One operator token for the platform: admin-key's operator API and the Admin API endpoints of the
// other three services (the dashboard calls them with it). A token already in some files is
// given to the others; two different ones are refused.
const operatorTokens = new Set(
  Object.values(existing)
    .map((values) => values.get("OPERATOR_TOKEN"))
    .filter(Boolean),
);
if (operatorTokens.size > 1) {
  process.stderr.write(
    "OPERATOR_TOKEN differs between the services' files: it is one value; delete every OPERATOR_TOKEN line to make a new one\n",
  );
  process.exit(1);
}
const operatorToken = [...operatorTokens][0] ?? random();

/** What each service's Secret holds: [name, how to get a value when the file has none]. */
const wanted = {
  "admin-key": [["OPERATOR_TOKEN", () => operatorToken]],
  "consumer-auth": [
    ["OPERATOR_TOKEN", () => operatorToken],
    ["SIGNING_KEY_ENCRYPTION_KEY", random],
    ["OTP_CODE_SECRET", random],
    ["OTP_SEAL_PUBLIC_KEY", () => seal.publicKey],
    // For a gateway that calls /introspect or /check as an internal caller (X-Internal-Token).
    ["INTERNAL_INTROSPECTION_TOKEN", random],
  ],
  "otp-delivery": [
    ["OPERATOR_TOKEN", () => operatorToken],
    ["OTP_SEAL_PRIVATE_KEY", () => seal.privateKey],
    ["SMTP_PASSWORD", (svc) => external("SMTP_PASSWORD", svc) ?? ""],
    ["SMS_AUTH_TOKEN", (svc) => external("SMS_AUTH_TOKEN", svc) ?? ""],
  ],
  "webauthn-credential": [
    ["OPERATOR_TOKEN", () => operatorToken],
    ["DECOY_CREDENTIAL_SECRET", random],
    ["USERNAME_HASH_SECRET", random],
  ],
};

const missing = [];
mkdirSync(out, { recursive: true });
for (const [service, entries] of Object.entries(wanted)) {
  const values = existing[service];
  const all = [
    ["DATABASE_URL", (svc) => external("DATABASE_URL", svc)],
    ["REDIS_URL", (svc) => external("REDIS_URL", svc)],
    // The service's own NATS user (NATS_USER is its name); the NATS servers read the same key.
    ["NATS_PASSWORD", natsPassword],
    ...entries,
  ];
  const lines = [];
  for (const [name, make] of all) {
    // An empty line counts as missing (a first run without DATABASE_URL wrote one).
    const value = values.get(name) || make(service);
    if (value === undefined) missing.push(`${name} (${service})`);
    lines.push(`${name}=${value ?? ""}`);
  }
  const file = path.join(out, `${service}.env`);
  writeFileSync(file, `${lines.join("\n")}\n`, { mode: 0o600 });
  process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
}
if (missing.length) {
  process.stderr.write(`no value for ${missing.join(", ")}: set them in the environment and run again\n`);
  process.exit(1);
}
