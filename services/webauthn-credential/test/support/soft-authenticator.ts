import { createHash, createPublicKey, generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto";
import { Encoder } from "cbor-x";

/**
 * A software WebAuthn authenticator for tests: real P-256 (ES256) key pairs, real CBOR
 * attestation objects (fmt "none") and real DER ECDSA assertion signatures over
 * authenticatorData || SHA-256(clientDataJSON). Nothing here is mocked on the server side.
 */

const cbor = new Encoder({ useRecords: false, mapsAsObjects: false, tagUint8Array: false });

const b64url = (b: Uint8Array | Buffer) => Buffer.from(b).toString("base64url");
const sha256 = (b: Uint8Array | string) => createHash("sha256").update(b).digest();

export const FLAG = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40, ED: 0x80 } as const;

export interface SoftCredential {
  id: string;
  rawId: Buffer;
  privateKey: KeyObject;
  rpId: string;
  userHandle: string;
  counter: number;
}

export interface SoftAuthenticatorOptions {
  /** AAGUID reported at registration (default: all zero, like most synced passkeys). */
  aaguid?: string;
  backupEligible?: boolean;
  backedUp?: boolean;
  userVerified?: boolean;
  /** "increment": +1 per assertion (security keys); "zero": always 0 (synced passkeys). */
  counter?: "increment" | "zero";
  transports?: string[];
}

interface CreationOptions {
  challenge: string;
  rp: { id?: string; name: string };
  user: { id: string; name: string; displayName: string };
}

interface RequestOptions {
  challenge: string;
  rpId?: string;
  allowCredentials?: Array<{ id: string }>;
}

export interface Overrides {
  /** Origin written into clientDataJSON. */
  origin: string;
  /** rpId whose hash goes into authenticatorData (default: the options' rp id). */
  rpId?: string;
  /** clientDataJSON type (default webauthn.create / webauthn.get). */
  type?: string;
  /** Challenge written into clientDataJSON (default: the options'). */
  challenge?: string;
  /** Force the signature counter of this assertion. */
  counter?: number;
  /** Which stored credential to use (default: the first allowed one, or the last created). */
  credentialId?: string;
}

function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ""), "hex");
}

export class SoftAuthenticator {
  readonly credentials = new Map<string, SoftCredential>();
  private last: SoftCredential | null = null;

  constructor(readonly opts: SoftAuthenticatorOptions = {}) {}

  private flags(extra: number): number {
    let f = FLAG.UP | extra;
    if (this.opts.userVerified !== false) f |= FLAG.UV;
    if (this.opts.backupEligible) f |= FLAG.BE;
    if (this.opts.backupEligible && this.opts.backedUp) f |= FLAG.BS;
    return f;
  }

  /** navigator.credentials.create(): returns RegistrationResponseJSON. */
  register(options: CreationOptions, o: Overrides) {
    const rpId = o.rpId ?? options.rp.id ?? new URL(o.origin).hostname;
    // `credentialId` re-registers an existing key pair (what a buggy or replaying client would send).
    const reused = o.credentialId ? this.credentials.get(o.credentialId) : undefined;
    const { privateKey, publicKey } = reused
      ? { privateKey: reused.privateKey, publicKey: createPublicKey(reused.privateKey) }
      : generateKeyPairSync("ec", { namedCurve: "P-256" });
    const jwk = publicKey.export({ format: "jwk" });
    const coseKey = new Map<number, number | Buffer>([
      [1, 2], // kty: EC2
      [3, -7], // alg: ES256
      [-1, 1], // crv: P-256
      [-2, Buffer.from(jwk.x ?? "", "base64url")],
      [-3, Buffer.from(jwk.y ?? "", "base64url")],
    ]);
    const rawId = reused?.rawId ?? randomBytes(32);
    const counter = Buffer.alloc(4);
    const idLen = Buffer.alloc(2);
    idLen.writeUInt16BE(rawId.length);
    const authData = Buffer.concat([
      sha256(rpId),
      Buffer.from([this.flags(FLAG.AT)]),
      counter,
      uuidBytes(this.opts.aaguid ?? "00000000-0000-0000-0000-000000000000"),
      idLen,
      rawId,
      Buffer.from(cbor.encode(coseKey)),
    ]);
    const attestationObject = cbor.encode(
      new Map<string, unknown>([
        ["fmt", "none"],
        ["attStmt", new Map()],
        ["authData", authData],
      ]),
    );
    const clientDataJSON = Buffer.from(
      JSON.stringify({
        type: o.type ?? "webauthn.create",
        challenge: o.challenge ?? options.challenge,
        origin: o.origin,
        crossOrigin: false,
      }),
    );
    const cred: SoftCredential = { id: b64url(rawId), rawId, privateKey, rpId, userHandle: options.user.id, counter: 0 };
    this.credentials.set(cred.id, cred);
    this.last = cred;
    return {
      id: cred.id,
      rawId: cred.id,
      type: "public-key" as const,
      response: {
        clientDataJSON: b64url(clientDataJSON),
        attestationObject: b64url(attestationObject),
        transports: this.opts.transports ?? ["internal", "hybrid"],
      },
      authenticatorAttachment: "platform" as const,
      clientExtensionResults: {},
    };
  }

  /** navigator.credentials.get(): returns AuthenticationResponseJSON. */
  authenticate(options: RequestOptions, o: Overrides) {
    const allowed = (options.allowCredentials ?? []).map((c) => c.id);
    const id = o.credentialId ?? allowed.find((a) => this.credentials.has(a)) ?? this.last?.id;
    const cred = id ? this.credentials.get(id) : undefined;
    if (!cred) throw new Error("soft authenticator: no matching credential");
    const rpId = o.rpId ?? options.rpId ?? cred.rpId;
    if (o.counter !== undefined) cred.counter = o.counter;
    else if (this.opts.counter === "increment") cred.counter += 1;
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(cred.counter);
    const authenticatorData = Buffer.concat([sha256(rpId), Buffer.from([this.flags(0)]), counter]);
    const clientDataJSON = Buffer.from(
      JSON.stringify({ type: o.type ?? "webauthn.get", challenge: o.challenge ?? options.challenge, origin: o.origin, crossOrigin: false }),
    );
    const signature = sign("sha256", Buffer.concat([authenticatorData, sha256(clientDataJSON)]), cred.privateKey);
    return {
      id: cred.id,
      rawId: cred.id,
      type: "public-key" as const,
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authenticatorData),
        signature: b64url(signature),
        userHandle: cred.userHandle,
      },
      authenticatorAttachment: "platform" as const,
      clientExtensionResults: {},
    };
  }
}
