/**
 * NATS subjects. Frozen constants: renaming one needs a migration plan (old and new both served
 * for a release). Every subject is built through `subjects(prefix)` so that tests can isolate
 * themselves on a shared server with a prefix; production uses the empty prefix.
 */
export const SubjectNames = {
  /** Request/reply: admin-key answers whether a pk_/sk_ key is valid. Core NATS, queue group. */
  keysVerify: "keys.v1.verify",
  /** Request/reply: admin-key answers an organization's public settings by id. */
  orgGet: "orgs.v1.get",
  /** JetStream (AUTH_EVENTS): every auth event, `auth.<type>`. */
  eventsPrefix: "auth.",
  /** JetStream (OTP_REQUESTS): delivery jobs, codes sealed to otp-delivery; kept no longer than a code lives. */
  otpRequested: "otp.v1.requested",
} as const;

/** Stream names (suffixed per test run). */
export const StreamNames = {
  events: "AUTH_EVENTS",
  otp: "OTP_REQUESTS",
} as const;

export interface Subjects {
  prefix: string;
  keysVerify: string;
  orgGet: string;
  /** Subject an event of `type` is published on, e.g. `auth.key.revoked`. */
  event(type: string): string;
  /** Wildcard that matches every event. */
  allEvents: string;
  otpRequested: string;
  eventsStream: string;
  otpStream: string;
}

/**
 * @param prefix subject prefix, empty in production; tests pass e.g. `t8f3a.`
 * @param streamSuffix appended to stream names so test runs get their own streams
 */
export function subjects(prefix = "", streamSuffix = ""): Subjects {
  return {
    prefix,
    keysVerify: `${prefix}${SubjectNames.keysVerify}`,
    orgGet: `${prefix}${SubjectNames.orgGet}`,
    event: (type: string) => `${prefix}${SubjectNames.eventsPrefix}${type}`,
    allEvents: `${prefix}${SubjectNames.eventsPrefix}>`,
    otpRequested: `${prefix}${SubjectNames.otpRequested}`,
    eventsStream: `${StreamNames.events}${streamSuffix}`,
    otpStream: `${StreamNames.otp}${streamSuffix}`,
  };
}
