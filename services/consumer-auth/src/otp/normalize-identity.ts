import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from "libphonenumber-js";
import { z } from "zod";
import { ValidationError } from "@authplane/service-kit";

/**
 * Who a code is for, normalized so that one person has one identity: emails trimmed and
 * lower-cased, phone numbers in E.164 (`+12025551234` whatever way it was typed).
 */
export type OtpIdentity =
  | { channel: "email"; kind: "email"; value: string }
  | { channel: "sms"; kind: "phone"; value: string; country: string | undefined };

const Country = z
  .string()
  .trim()
  .toUpperCase()
  .refine((c) => isSupportedCountry(c), { message: "Unknown country code (ISO 3166-1 alpha-2 expected)" });

const identityFields = {
  email: z.string().max(320).optional(),
  phone: z.string().max(64).optional(),
  defaultCountry: Country.optional(),
};
const oneOfEmailOrPhone = [
  (b: { email?: string; phone?: string }) => (b.email === undefined) !== (b.phone === undefined),
  { message: "Send exactly one of email or phone", path: ["email"] },
] satisfies [unknown, unknown];

/** `{email}` or `{phone, defaultCountry?}`: exactly one of email and phone (the body of POST /otp/request). */
export const OtpIdentityInput = z.object(identityFields).refine(...oneOfEmailOrPhone);
export type OtpIdentityInput = z.infer<typeof OtpIdentityInput>;

/** Body of POST /otp/verify: the same identity plus the code. */
export const OtpVerifyBody = z
  .object({
    ...identityFields,
    code: z
      .string()
      .trim()
      .regex(/^\d{4,10}$/, "The code is a string of digits"),
  })
  .refine(...oneOfEmailOrPhone);
export type OtpVerifyBody = z.infer<typeof OtpVerifyBody>;

const Email = z.email();

/** Normalizes and validates; invalid input throws a 400 ValidationError naming the field. */
export function normalizeIdentity(input: OtpIdentityInput): OtpIdentity {
  if (input.email !== undefined) {
    const value = input.email.trim().toLowerCase();
    if (!Email.safeParse(value).success) {
      throw new ValidationError([{ path: ["email"], message: "Not a valid email address", code: "invalid_email" }]);
    }
    return { channel: "email", kind: "email", value };
  }
  const phone = normalizePhone(input.phone ?? "", input.defaultCountry as CountryCode | undefined);
  if (!phone) {
    throw new ValidationError([{ path: ["phone"], message: "Not a valid phone number", code: "invalid_phone" }]);
  }
  return { channel: "sms", kind: "phone", value: phone.e164, country: phone.country };
}

/** E.164 and destination country of a phone number, or null when it is not a valid number. */
export function normalizePhone(raw: string, defaultCountry?: CountryCode): { e164: string; country: string | undefined } | null {
  const parsed = parsePhoneNumberFromString(raw.trim(), defaultCountry);
  if (!parsed?.isValid()) return null;
  return { e164: parsed.number, country: parsed.country };
}
