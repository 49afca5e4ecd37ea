import type { AuthenticatorTransportFuture } from "@simplewebauthn/server";

const KNOWN = new Set<string>(["usb", "nfc", "ble", "smart-card", "hybrid", "internal", "cable"]);

/** The transports a client reported, keeping only WebAuthn's known values (deduplicated). */
export function knownTransports(values: readonly string[] | undefined): AuthenticatorTransportFuture[] {
  return [...new Set((values ?? []).filter((t) => KNOWN.has(t)))] as AuthenticatorTransportFuture[];
}
