import { MAX_ALLOWED_ORIGINS } from "@authplane/contracts";
import { ValidationError } from "@authplane/service-kit";

const HOST_LABELS = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const IPV4 = /^(\d{1,3})(\.\d{1,3}){3}$/;

/** Loopback hosts, where plain http is allowed (local development). */
function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname.endsWith(".localhost") || hostname === "[::1]" || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/**
 * Validates and normalises the consumer API's allowed browser origins into exactly the string a
 * browser sends in `Origin` (WHATWG serialisation: lower-cased scheme and host, punycode, no
 * default port, no trailing slash), so that the consumer API can compare with `===`.
 *
 * Each entry must be an origin (`scheme://host[:port]`, no path, query, fragment or credentials),
 * https, or http on a loopback host only (a page served over plain http elsewhere would hand its
 * tokens to anyone on the network). No wildcards: an allowed origin is one site the customer
 * controls. Duplicates (after normalisation) collapse; at most MAX_ALLOWED_ORIGINS.
 */
export function validateAllowedOrigins(input: readonly string[], path: (string | number)[] = ["allowedOrigins"]): string[] {
  const issues: Array<{ path: (string | number)[]; message: string }> = [];
  if (input.length > MAX_ALLOWED_ORIGINS) issues.push({ path, message: `at most ${MAX_ALLOWED_ORIGINS} origins` });
  const origins: string[] = [];
  input.forEach((raw, i) => {
    const at = [...path, i];
    const trimmed = raw.trim();
    let url: URL;
    try {
      url = new URL(trimmed);
    } catch {
      issues.push({ path: at, message: "must be an origin such as https://shop.example" });
      return;
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      issues.push({ path: at, message: "must use https (http only for localhost)" });
      return;
    }
    if (url.protocol === "http:" && !isLoopback(url.hostname)) {
      issues.push({ path: at, message: "must use https (http only for localhost)" });
      return;
    }
    // `new URL("https://shop.example/")` has pathname "/": accepted (the trailing slash is dropped).
    if (url.pathname !== "/" || url.search || url.hash || url.username || url.password || /[?#]$/.test(trimmed)) {
      issues.push({ path: at, message: "must be an origin (scheme://host[:port]) without path, query or fragment" });
      return;
    }
    const host = url.hostname;
    const validHost = host.startsWith("[") || (IPV4.test(host) ? host.split(".").every((o) => Number(o) <= 255) : HOST_LABELS.test(host));
    if (!validHost) {
      // e.g. "https://*.shop.example": WHATWG URL accepts it, no browser ever sends it.
      issues.push({ path: at, message: "must be an origin with a valid host name (no wildcards)" });
      return;
    }
    if (!origins.includes(url.origin)) origins.push(url.origin);
  });
  if (issues.length) throw new ValidationError(issues);
  return origins;
}
