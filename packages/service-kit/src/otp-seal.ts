import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  randomBytes,
} from "node:crypto";
import { SEALED_CODE_ALG, type SealedOtpCode } from "@authplane/contracts";

/**
 * OTP codes sealed to otp-delivery: consumer-auth holds only otp-delivery's X25519 public key,
 * otp-delivery the private key, so the code in a delivery job is readable by otp-delivery alone
 * (not by NATS, its store, its backups or any other subscriber).
 *
 * Seal: an ephemeral X25519 key pair per code; shared secret = X25519(ephemeral, recipient);
 * AES-256-GCM key = HKDF-SHA256(shared, salt = epk || recipient public key, info = SEAL_INFO);
 * a random 96-bit IV; the job's identity (envelope id, organization, mode, request id, channel,
 * destination) as additional authenticated data, so a sealed code moved to another job (another
 * destination, organization or id) does not open.
 */
const SEAL_INFO = Buffer.from("authplane otp-code seal v1");
/** PKCS#8 DER prefix of a raw 32-byte X25519 private key (RFC 8410). */
const X25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");
/** SPKI DER prefix of a raw 32-byte X25519 public key. */
const X25519_SPKI_PREFIX = Buffer.from("302a300506032b656e032100", "hex");

/**
 * The development key pair: the defaults of OTP_SEAL_PUBLIC_KEY (consumer-auth) and
 * OTP_SEAL_PRIVATE_KEY (otp-delivery) outside production. Public in this repository, so each
 * service refuses it in production.
 */
export const DEV_OTP_SEAL_KEYS = {
  privateKey: "kO2Mj-Z2fIk4brHyG6M2DiZifZKb7ni37cZWP_3fNHQ",
  publicKey: "8xWVElTww3c9I3A0SrlK7aDysgBrn3-wOueVHCaFHyY",
} as const;

/** What a sealed code is bound to: the delivery job it was issued for. */
export interface SealContext {
  eventId: string;
  organizationId: string | null;
  mode: string | null;
  requestId: string;
  channel: string;
  to: string;
}

function aad(ctx: SealContext): Buffer {
  return Buffer.from(JSON.stringify(["authplane.otp.v1", ctx.eventId, ctx.organizationId, ctx.mode, ctx.requestId, ctx.channel, ctx.to]));
}

function rawBytes(value: string, name: string): Buffer {
  const raw = Buffer.from(value, "base64url");
  if (raw.length !== 32 || raw.toString("base64url") !== value.replace(/=+$/, "")) {
    throw new Error(`${name} must be 32 bytes in base64url`);
  }
  return raw;
}

/** A recipient public key (base64url of the raw 32 bytes). Throws on a malformed value. */
export function importSealPublicKey(value: string): KeyObject {
  return createPublicKey({ key: Buffer.concat([X25519_SPKI_PREFIX, rawBytes(value, "the public key")]), format: "der", type: "spki" });
}

/** A recipient private key (base64url of the raw 32 bytes). Throws on a malformed value. */
export function importSealPrivateKey(value: string): KeyObject {
  return createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, rawBytes(value, "the private key")]), format: "der", type: "pkcs8" });
}

function rawPublic(key: KeyObject): Buffer {
  return Buffer.from(key.export({ format: "jwk" }).x as string, "base64url");
}

/**
 * The public half (raw bytes) and key id of a private key, computed once per key: deriving them
 * (an X25519 scalar multiplication, a JWK export and a hash) on every opened code was a tenth of
 * otp-delivery's CPU per message.
 */
const recipients = new WeakMap<KeyObject, { raw: Buffer; kid: string }>();
function recipientOf(privateKey: KeyObject): { raw: Buffer; kid: string } {
  let r = recipients.get(privateKey);
  if (!r) {
    const publicKey = createPublicKey(privateKey);
    r = { raw: rawPublic(publicKey), kid: sealKeyId(publicKey) };
    recipients.set(privateKey, r);
  }
  return r;
}

/** Key id of a public key: the first 16 characters of base64url(SHA-256(raw public key)). */
export function sealKeyId(publicKey: KeyObject): string {
  return createHash("sha256").update(rawPublic(publicKey)).digest("base64url").slice(0, 16);
}

/** A fresh key pair as the base64url strings the env variables take. */
export function generateSealKeyPair(): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync("x25519");
  return {
    privateKey: privateKey.export({ format: "jwk" }).d as string,
    publicKey: publicKey.export({ format: "jwk" }).x as string,
  };
}

function deriveKey(shared: Buffer, epk: Buffer, recipient: Buffer): Buffer {
  return Buffer.from(hkdfSync("sha256", shared, Buffer.concat([epk, recipient]), SEAL_INFO, 32));
}

/** The raw bytes and key id of a recipient public key, computed once per key (two JWK exports and a hash per code otherwise). */
const sealTargets = new WeakMap<KeyObject, { raw: Buffer; kid: string }>();
function sealTargetOf(publicKey: KeyObject): { raw: Buffer; kid: string } {
  let t = sealTargets.get(publicKey);
  if (!t) {
    t = { raw: rawPublic(publicKey), kid: sealKeyId(publicKey) };
    sealTargets.set(publicKey, t);
  }
  return t;
}

/** Seals `code` to `recipient` for the job described by `ctx`. */
export function sealOtpCode(code: string, recipient: KeyObject, ctx: SealContext): SealedOtpCode {
  const target = sealTargetOf(recipient);
  const eph = generateKeyPairSync("x25519");
  // The raw public key is the end of its SPKI DER (after the fixed 12-byte prefix).
  const epk = eph.publicKey.export({ format: "der", type: "spki" }).subarray(X25519_SPKI_PREFIX.length);
  const key = deriveKey(diffieHellman({ privateKey: eph.privateKey, publicKey: recipient }), epk, target.raw);
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(aad(ctx));
  const ct = Buffer.concat([cipher.update(code, "utf8"), cipher.final()]);
  return {
    alg: SEALED_CODE_ALG,
    kid: target.kid,
    epk: epk.toString("base64url"),
    iv: iv.toString("base64url"),
    ct: ct.toString("base64url"),
    tag: cipher.getAuthTag().toString("base64url"),
  };
}

export class SealOpenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SealOpenError";
  }
}

/**
 * Opens a sealed code with the private key whose id it names (several keys: rotation). Throws
 * SealOpenError when no key matches or the box was altered or moved to another job.
 */
export function openOtpCode(sealed: SealedOtpCode, privateKeys: KeyObject[], ctx: SealContext): string {
  const key = privateKeys.find((k) => recipientOf(k).kid === sealed.kid);
  if (!key) throw new SealOpenError("sealed for a key this service does not hold");
  try {
    const epk = Buffer.from(sealed.epk, "base64url");
    const { raw: recipient } = recipientOf(key);
    const shared = diffieHellman({
      privateKey: key,
      publicKey: createPublicKey({ key: Buffer.concat([X25519_SPKI_PREFIX, epk]), format: "der", type: "spki" }),
    });
    const decipher = createDecipheriv("aes-256-gcm", deriveKey(shared, epk, recipient), Buffer.from(sealed.iv, "base64url"), {
      authTagLength: 16,
    });
    decipher.setAAD(aad(ctx));
    decipher.setAuthTag(Buffer.from(sealed.tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(sealed.ct, "base64url")), decipher.final()]).toString("utf8");
  } catch {
    throw new SealOpenError("the sealed code does not open (altered, or not sealed for this job)");
  }
}
