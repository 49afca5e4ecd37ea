import { maskDestination } from "../src/mask-destination.js";
import { normalizeOutboxRecipient } from "../src/usecases/list-dev-outbox.js";
import { lifetimeMinutes, renderOtpEmail, renderOtpSms } from "../src/templates/otp-message.js";

test("email: code, organization and lifetime in both parts; HTML escapes the name; no code in the subject", () => {
  const m = renderOtpEmail({ organizationName: `O'Neil & <Sons>\r\nBcc: x@evil.test`, code: "481516", ttlSeconds: 90 });
  expect(m.subject).toBe("Your O'Neil & <Sons> Bcc: x@evil.test verification code");
  expect(m.subject).not.toMatch(/[\r\n]/);
  expect(m.text).toContain("Your O'Neil & <Sons> Bcc: x@evil.test verification code is: 481516");
  expect(m.text).toContain("expires in 2 minutes");
  expect(m.html).toContain("O&#39;Neil &#38; &#60;Sons&#62;");
  expect(m.html).not.toContain("<Sons>");
  expect(m.html).toContain("481516");
  expect(renderOtpEmail({ organizationName: "Acme", code: "1", ttlSeconds: 60 }).text).toContain("1 minute.");
});

test("sms: code first, organization, lifetime", () => {
  expect(renderOtpSms({ organizationName: "Acme", code: "123456", ttlSeconds: 600 })).toBe(
    "123456 is your Acme verification code. It expires in 10 minutes. Do not share it.",
  );
  expect(lifetimeMinutes(1)).toBe(1);
  expect(lifetimeMinutes(601)).toBe(11);
});

test("destinations are masked", () => {
  expect(maskDestination("email", "jane.doe@example.com")).toBe("j***@example.com");
  expect(maskDestination("sms", "+12025550134")).toBe("+1202*****34");
  expect(maskDestination("sms", "+4477009001")).toBe("+4477****01");
});

test("outbox recipients are normalised like consumer-auth's identities", () => {
  expect(normalizeOutboxRecipient("Jane@Example.COM")).toBe("jane@example.com");
  expect(normalizeOutboxRecipient("+15551234567")).toBe("+15551234567");
  expect(normalizeOutboxRecipient(" 15551234567")).toBe("+15551234567");
  expect(normalizeOutboxRecipient("15551234567")).toBeNull();
  expect(normalizeOutboxRecipient("not an email")).toBeNull();
});
