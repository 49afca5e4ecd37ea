// passkey-verify: `atn_` tokens are single use, so each timed run gets its own, made before it by
// real WebAuthn ceremonies: a software authenticator (P-256 key, CBOR attestation "none", DER
// ECDSA assertion signatures — as webauthn-credential's test/support/soft-authenticator.ts) signs
// the challenges of /assertion/options, and /assertion/process turns each into an atn_ token.
import { createHash, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { createRequire } from "node:module";
import path from "node:path";
import { root } from "@authplane/e2e/stack";

const require = createRequire(path.join(root, "services/webauthn-credential/package.json"));
const { Encoder } = require("cbor-x");
const cbor = new Encoder({ useRecords: false, mapsAsObjects: false, tagUint8Array: false });

const ORIGIN = "https://bench.example.com";
const RP = { rpId: "bench.example.com", rpName: "Bench", origins: [ORIGIN] };
const b64url = (b) => Buffer.from(b).toString("base64url");
const sha256 = (b) => createHash("sha256").update(b).digest();
// UP | UV: the authenticator verified the user (as a platform passkey does).
const FLAGS = 0x01 | 0x04;

async function post(url, authorization, body, origin, tries = 5) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await postOnce(url, authorization, body, origin);
    } catch (err) {
      // A loaded machine makes a backing service answer 503 now and then: the ceremony is redone.
      if (attempt >= tries || !String(err.message).includes("answered 503")) throw err;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}

async function postOnce(url, authorization, body, origin) {
  const res = await fetch(url, {
    method: "POST",
    headers: { authorization, "content-type": "application/json", accept: "application/json", ...(origin ? { origin } : {}) },
    body: JSON.stringify(body),
  });
  const json = await res.json().catch(() => null);
  if (res.status !== 200) throw new Error(`${new URL(url).pathname} answered ${res.status}: ${JSON.stringify(json)}`);
  return json.result;
}

/** An organization with a relying party, one registered passkey attached to user `bench-user`. */
export async function setUpPasskeys({ adminKeyUrl, webauthnUrl, operatorToken }) {
  const res = await fetch(`${adminKeyUrl}/api/v1/organizations`, {
    method: "POST",
    headers: { authorization: `Bearer ${operatorToken}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "Bench passkeys", webauthn: RP }),
  });
  if (res.status !== 201) throw new Error(`creating the passkey organization answered ${res.status}: ${await res.text()}`);
  const { keys } = await res.json();
  const client = `Basic ${Buffer.from(`${keys.publishable.live}:`).toString("base64")}`;
  const server = `Basic ${Buffer.from(`:${keys.secret.live}`).toString("base64")}`;

  const options = (await post(`${webauthnUrl}/attestation/options`, client, { upgrade: false }, ORIGIN)).publicKey;
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = publicKey.export({ format: "jwk" });
  const coseKey = new Map([
    [1, 2], // kty: EC2
    [3, -7], // alg: ES256
    [-1, 1], // crv: P-256
    [-2, Buffer.from(jwk.x, "base64url")],
    [-3, Buffer.from(jwk.y, "base64url")],
  ]);
  const rawId = randomBytes(32);
  const idLen = Buffer.alloc(2);
  idLen.writeUInt16BE(rawId.length);
  const authData = Buffer.concat([
    sha256(RP.rpId),
    Buffer.from([FLAGS | 0x40]),
    Buffer.alloc(4),
    Buffer.alloc(16),
    idLen,
    rawId,
    Buffer.from(cbor.encode(coseKey)),
  ]);
  const attestationObject = cbor.encode(
    new Map([
      ["fmt", "none"],
      ["attStmt", new Map()],
      ["authData", authData],
    ]),
  );
  const clientDataJSON = Buffer.from(
    JSON.stringify({ type: "webauthn.create", challenge: options.challenge, origin: ORIGIN, crossOrigin: false }),
  );
  const credential = {
    id: b64url(rawId),
    rawId: b64url(rawId),
    type: "public-key",
    response: { clientDataJSON: b64url(clientDataJSON), attestationObject: b64url(attestationObject), transports: ["internal", "hybrid"] },
    authenticatorAttachment: "platform",
    clientExtensionResults: {},
  };
  const { token } = await post(`${webauthnUrl}/attestation/process`, client, { credential }, ORIGIN);
  await post(`${webauthnUrl}/registration/attach`, server, { token, user: { id: "bench-user" } });
  // The private key stays in this process, for the assertions of preparePasskeyTokens.
  return {
    webauthnUrl,
    client,
    serverHeaders: { authorization: server, "content-type": "application/json" },
    credentialId: b64url(rawId),
    userHandle: options.user.id,
    privateKey,
  };
}

/** `n` fresh atn_ tokens (options → signed assertion → process), 8 ceremonies at a time. */
export async function preparePasskeyTokens(state, n) {
  const tokens = [];
  let left = n;
  await Promise.all(
    Array.from({ length: Math.min(8, n) }, async () => {
      while (left > 0) {
        left--;
        const options = (await post(`${state.webauthnUrl}/assertion/options`, state.client, {}, ORIGIN)).publicKey;
        const authenticatorData = Buffer.concat([sha256(RP.rpId), Buffer.from([FLAGS]), Buffer.alloc(4)]);
        const clientDataJSON = Buffer.from(
          JSON.stringify({ type: "webauthn.get", challenge: options.challenge, origin: ORIGIN, crossOrigin: false }),
        );
        const signature = sign("sha256", Buffer.concat([authenticatorData, sha256(clientDataJSON)]), state.privateKey);
        const credential = {
          id: state.credentialId,
          rawId: state.credentialId,
          type: "public-key",
          response: {
            clientDataJSON: b64url(clientDataJSON),
            authenticatorData: b64url(authenticatorData),
            signature: b64url(signature),
            userHandle: state.userHandle,
          },
          authenticatorAttachment: "platform",
          clientExtensionResults: {},
        };
        const { token } = await post(`${state.webauthnUrl}/assertion/process`, state.client, { credential }, ORIGIN);
        tokens.push(token);
      }
    }),
  );
  return tokens;
}
