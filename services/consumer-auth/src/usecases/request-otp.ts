import { IdPrefix, type VerifiedKey } from "@authplane/contracts";
import { ulid } from "@authplane/service-kit";
import type { OtpScope } from "../otp/code-store.js";
import { normalizeIdentity, type OtpIdentityInput } from "../otp/normalize-identity.js";
import type { OtpJobInput } from "../otp/otp-jobs.js";
import type { AppDeps } from "../deps.js";
import { OtpErrors, otpError } from "../errors.js";

/**
 * Issues a code for an email or phone and queues its delivery. Resolves only once JetStream has
 * acknowledged the delivery job; if it cannot, the stored code is removed and every send budget it
 * took given back (cooldown, hourly sends, SMS ceilings), and the caller gets a 503.
 *
 * No lookup of the identity happens here: a known and an unknown email/phone take exactly the
 * same path (same answer, same work), so the endpoint cannot be used to enumerate accounts.
 */
export interface RequestOtpInput {
  key: VerifiedKey;
  body: OtpIdentityInput;
  ip: string;
}

export async function requestOtp(deps: Pick<AppDeps, "otp">, { key, body, ip }: RequestOtpInput): Promise<{ ok: true }> {
  const { otp } = deps;
  await otp.limits.consumeRequestByIp(ip);
  const identity = normalizeIdentity(body);
  const scope: OtpScope = { organizationId: key.organizationId, mode: key.mode };

  // SMS only to the destination countries the organization allows in this mode (empty: all).
  // Checked before any budget is taken: a refused number costs the organization nothing.
  const allowed = key.settings.smsAllowedCountries;
  if (identity.channel === "sms" && allowed.length > 0 && !(identity.country && allowed.includes(identity.country))) {
    throw otpError(OtpErrors.smsCountryNotAllowed);
  }

  // One Redis round trip: no code while the identity's wrong-code budget is spent (it could not
  // be verified), then the cooldown and the send budgets.
  const releaseBudgets = await otp.limits.consumeSend(scope, identity);
  const requestId = `${IdPrefix.otpRequest}${ulid()}`;
  const code = otp.codes.generateCode();
  const ttlSeconds = otp.config.ttlSeconds;
  const expiresAt = new Date(Date.now() + ttlSeconds * 1000).toISOString();
  try {
    await otp.codes.store(scope, identity, code, requestId);
    const data: OtpJobInput = {
      requestId,
      channel: identity.channel,
      to: identity.value,
      code,
      expiresAt,
      ttlSeconds,
      organizationName: key.organizationName,
      ...(identity.channel === "sms" && identity.country ? { country: identity.country } : {}),
    };
    await otp.jobs.publish(scope, data);
  } catch (err) {
    // Nothing will be delivered: leave no usable code behind, and let the user retry at once.
    await otp.codes.revoke(scope, identity, requestId).catch(() => {});
    await releaseBudgets();
    otp.logger.warn({ requestId, channel: identity.channel, err: (err as Error).message }, "otp request failed");
    throw err;
  }
  otp.logger.info({ requestId, channel: identity.channel, organizationId: scope.organizationId, mode: scope.mode }, "otp requested");
  return { ok: true };
}
