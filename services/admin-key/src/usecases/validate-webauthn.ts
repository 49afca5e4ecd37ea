import type { WebAuthnSettings, WebAuthnSettingsInput } from "@authplane/contracts";
import { ValidationError } from "@authplane/service-kit";

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/**
 * Checks a relying party the way browsers will: the rpId is a bare host name, and every allowed
 * origin is an https origin (http only for localhost) whose host is the rpId or a subdomain of it.
 * A setting browsers would reject fails here, at configuration time, not at a user's first sign-in.
 * `requireUserVerification` defaults to false.
 */
export function validateWebAuthn(input: WebAuthnSettingsInput, path: string[] = ["webauthn"]): WebAuthnSettings {
  const issues: Array<{ path: (string | number)[]; message: string }> = [];
  const rpId = input.rpId.toLowerCase();
  if (!HOSTNAME.test(rpId)) issues.push({ path: [...path, "rpId"], message: "must be a host name without scheme, port or path" });
  const origins: string[] = [];
  input.origins.forEach((raw, i) => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      issues.push({ path: [...path, "origins", i], message: "must be a URL" });
      return;
    }
    const local = url.hostname === "localhost" || url.hostname === "127.0.0.1";
    if (url.protocol !== "https:" && !(url.protocol === "http:" && local)) {
      issues.push({ path: [...path, "origins", i], message: "must use https (http only for localhost)" });
      return;
    }
    if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash || url.username || url.password) {
      issues.push({ path: [...path, "origins", i], message: "must be an origin (scheme://host[:port]) without path" });
      return;
    }
    if (!HOSTNAME.test(url.hostname)) {
      // e.g. "https://*.shop.example": WHATWG URL accepts it, no browser ever sends it.
      issues.push({ path: [...path, "origins", i], message: "must be an origin with a valid host name (no wildcards)" });
      return;
    }
    if (url.hostname !== rpId && !url.hostname.endsWith(`.${rpId}`)) {
      issues.push({ path: [...path, "origins", i], message: "host must be the rpId or a subdomain of it" });
      return;
    }
    if (!origins.includes(url.origin)) origins.push(url.origin);
  });
  if (issues.length) throw new ValidationError(issues);
  return { rpId, rpName: input.rpName.trim(), origins, requireUserVerification: input.requireUserVerification === true };
}
