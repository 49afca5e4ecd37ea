/** What every OTP message says: who asks, the code, how long it works. */
export interface OtpMessageInput {
  organizationName: string;
  code: string;
  ttlSeconds: number;
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

/** Whole minutes a code lives, at least 1 (a 90 s code reads "2 minutes"). */
export function lifetimeMinutes(ttlSeconds: number): number {
  return Math.max(1, Math.ceil(ttlSeconds / 60));
}

function minutesText(ttlSeconds: number): string {
  const m = lifetimeMinutes(ttlSeconds);
  return m === 1 ? "1 minute" : `${m} minutes`;
}

/** The organization name is chosen by an operator of a tenant: escape it before it reaches HTML. */
function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Names are free text; keep one line (no header or SMS injection by newline). */
function oneLine(s: string): string {
  const t = s.replace(/[\r\n\t]+/g, " ").trim();
  return t.length > 0 ? t : "your account";
}

export function renderOtpEmail(input: OtpMessageInput): RenderedEmail {
  const org = oneLine(input.organizationName);
  const minutes = minutesText(input.ttlSeconds);
  // No code in the subject: mail servers and clients log and preview subjects.
  const subject = `Your ${org} verification code`;
  const text = [
    `Your ${org} verification code is: ${input.code}`,
    "",
    `It expires in ${minutes}. If you did not ask for it, you can ignore this email.`,
    "Never share this code with anyone.",
    "",
  ].join("\n");
  const orgHtml = escapeHtml(org);
  const html = `<!doctype html>
<html lang="en">
  <body style="font-family: -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif; color: #111; margin: 0; padding: 24px;">
    <p>Your <strong>${orgHtml}</strong> verification code is:</p>
    <p style="font-size: 28px; font-weight: 700; letter-spacing: 6px; margin: 16px 0;">${escapeHtml(input.code)}</p>
    <p>It expires in ${minutes}. If you did not ask for it, you can ignore this email.</p>
    <p style="color: #666; font-size: 12px;">Never share this code with anyone.</p>
  </body>
</html>
`;
  return { subject, text, html };
}

/** One short SMS segment in the usual format (code first, so phones offer to autofill it). */
export function renderOtpSms(input: OtpMessageInput): string {
  return `${input.code} is your ${oneLine(input.organizationName)} verification code. It expires in ${minutesText(input.ttlSeconds)}. Do not share it.`;
}
