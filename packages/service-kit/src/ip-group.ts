import type { Request } from "express";
import ipaddr from "ipaddr.js";

/** Default IPv6 grouping for per-IP limits: one /64 is one client (the usual end-site allocation). */
export const DEFAULT_IPV6_PREFIX = 64;

/**
 * The key a per-IP limit counts an address under. IPv4 addresses count alone; an IPv4-mapped IPv6
 * address (`::ffff:203.0.113.7`, what a dual-stack socket reports) is the IPv4 address; any other
 * IPv6 address counts as its `/ipv6Prefix` network (`2001:db8:1:2::/64`), so that a client holding a
 * whole prefix cannot multiply its budget by rotating addresses inside it. Anything unparseable is
 * used as is.
 */
export function ipGroup(ip: string, ipv6Prefix: number = DEFAULT_IPV6_PREFIX): string {
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    // Strip a zone id (`fe80::1%eth0`): it is not part of the address.
    addr = ipaddr.parse(ip.split("%")[0] ?? ip);
  } catch {
    return ip;
  }
  if (addr.kind() === "ipv4") return addr.toString();
  const v6 = addr as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().toString();
  const prefix = Math.min(128, Math.max(0, Math.trunc(ipv6Prefix)));
  const bytes = v6.toByteArray();
  for (let i = 0; i < 16; i++) {
    const keep = Math.min(8, Math.max(0, prefix - i * 8));
    bytes[i] = (bytes[i] ?? 0) & ((0xff << (8 - keep)) & 0xff);
  }
  return `${(ipaddr.fromByteArray(bytes) as ipaddr.IPv6).toNormalizedString()}/${prefix}`;
}

/** The per-IP limit key of a request: `ipGroup` of the client IP Express computed from TRUST_PROXY. */
export function clientIpGroup(req: Request, ipv6Prefix: number = DEFAULT_IPV6_PREFIX): string {
  return ipGroup(req.ip ?? req.socket.remoteAddress ?? "unknown", ipv6Prefix);
}
