import {
  DEV_OTP_SEAL_KEYS,
  generateSealKeyPair,
  importSealPrivateKey,
  importSealPublicKey,
  openOtpCode,
  SealOpenError,
  sealKeyId,
  sealOtpCode,
} from "../src/otp-seal.js";
import { monotonicUlidFactory } from "../src/ulid.js";

const ctx = { eventId: "evt_1", organizationId: "org_1", mode: "live", requestId: "otp_1", channel: "email", to: "a@example.com" };

describe("sealed OTP codes", () => {
  const publicKey = importSealPublicKey(DEV_OTP_SEAL_KEYS.publicKey);
  const privateKey = importSealPrivateKey(DEV_OTP_SEAL_KEYS.privateKey);

  test("a code sealed twice to the same key (cached key id) opens each time, with a fresh ephemeral key per code", () => {
    const a = sealOtpCode("123456", publicKey, ctx);
    const b = sealOtpCode("654321", publicKey, ctx);
    expect(a.kid).toBe(sealKeyId(publicKey));
    expect(b.kid).toBe(a.kid);
    expect(Buffer.from(a.epk, "base64url")).toHaveLength(32);
    expect(b.epk).not.toBe(a.epk);
    expect(openOtpCode(a, [privateKey], ctx)).toBe("123456");
    expect(openOtpCode(b, [privateKey], ctx)).toBe("654321");
  });

  test("another job or another key does not open it", () => {
    const sealed = sealOtpCode("123456", publicKey, ctx);
    expect(() => openOtpCode(sealed, [privateKey], { ...ctx, to: "b@example.com" })).toThrow(SealOpenError);
    const other = importSealPrivateKey(generateSealKeyPair().privateKey);
    expect(() => openOtpCode(sealed, [other], ctx)).toThrow(SealOpenError);
  });
});

test("monotonicUlidFactory: strictly increasing ULIDs within one millisecond", () => {
  const next = monotonicUlidFactory();
  const ids = Array.from({ length: 1000 }, () => next(1_700_000_000_000));
  expect(ids.every((id) => /^[0-9A-HJKMNP-TV-Z]{26}$/.test(id))).toBe(true);
  expect([...ids].sort()).toEqual(ids);
  expect(new Set(ids).size).toBe(ids.length);
});
