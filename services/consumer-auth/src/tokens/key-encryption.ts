import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

/**
 * Private signing keys are stored encrypted with AES-256-GCM. The AES key is SHA-256 of
 * SIGNING_KEY_ENCRYPTION_KEY (so any >= 32-char secret works); the key id is bound as AAD so a
 * ciphertext cannot be moved to another row.
 */
function aesKey(secret: string): Buffer {
  return createHash("sha256").update(secret, "utf8").digest();
}

export function encryptPrivateKey(pkcs8Der: Buffer, kid: string, secret: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", aesKey(secret), iv);
  cipher.setAAD(Buffer.from(kid, "utf8"));
  const ct = Buffer.concat([cipher.update(pkcs8Der), cipher.final()]);
  return [iv, cipher.getAuthTag(), ct].map((b) => b.toString("base64url")).join(".");
}

export function decryptPrivateKey(encrypted: string, kid: string, secret: string): Buffer {
  const [iv, tag, ct] = encrypted.split(".");
  if (!iv || !tag || !ct) throw new Error(`signing key ${kid}: malformed ciphertext`);
  const decipher = createDecipheriv("aes-256-gcm", aesKey(secret), Buffer.from(iv, "base64url"));
  decipher.setAAD(Buffer.from(kid, "utf8"));
  decipher.setAuthTag(Buffer.from(tag, "base64url"));
  return Buffer.concat([decipher.update(Buffer.from(ct, "base64url")), decipher.final()]);
}
