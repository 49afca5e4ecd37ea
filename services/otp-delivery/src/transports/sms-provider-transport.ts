import { renderOtpSms } from "../templates/otp-message.js";
import { DeliveryError, type OtpMessage, type SendResult, type Transport } from "./transport.js";

export interface SmsProviderOptions {
  /** e.g. https://api.twilio.com */
  baseUrl: string;
  accountSid: string;
  authToken: string;
  from: string;
  timeoutMs: number;
}

/**
 * SMS through a Twilio-compatible REST API:
 * `POST {base}/2010-04-01/Accounts/{SID}/Messages.json`, form-encoded `To`, `From`, `Body`, HTTP
 * Basic `SID:token`. 2xx with a JSON `sid` = accepted; 4xx = permanent (bad number, blocked), except
 * 429 (provider rate limit) which is retried like 5xx and network faults.
 */
export class SmsProviderTransport implements Transport {
  private readonly url: string;
  private readonly authorization: string;

  constructor(private readonly opts: SmsProviderOptions) {
    const base = opts.baseUrl.replace(/\/+$/, "");
    this.url = `${base}/2010-04-01/Accounts/${encodeURIComponent(opts.accountSid)}/Messages.json`;
    this.authorization = `Basic ${Buffer.from(`${opts.accountSid}:${opts.authToken}`).toString("base64")}`;
  }

  async send(message: OtpMessage): Promise<SendResult> {
    const body = new URLSearchParams({ To: message.to, From: this.opts.from, Body: renderOtpSms(message) });
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: "POST",
        headers: {
          Authorization: this.authorization,
          "Content-Type": "application/x-www-form-urlencoded",
          Accept: "application/json",
        },
        body,
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
    } catch (err) {
      const name = (err as Error).name;
      throw new DeliveryError(`sms provider unreachable (${name === "TimeoutError" ? "timeout" : name})`, false);
    }
    const json = (await res.json().catch(() => null)) as { sid?: unknown; code?: unknown; status?: unknown } | null;
    if (res.ok) {
      if (json && typeof json.sid === "string" && json.sid.length > 0) return { providerMessageId: json.sid };
      // Accepted but unreadable: the message may be on its way, so do not retry (no second SMS).
      throw new DeliveryError(`sms provider answered ${res.status} without a message sid`, true);
    }
    // Only the status and the provider's numeric error code: its message may echo the number.
    const providerCode = json && (typeof json.code === "number" || typeof json.code === "string") ? ` (code ${json.code})` : "";
    const permanent = res.status >= 400 && res.status < 500 && res.status !== 429 && res.status !== 408;
    throw new DeliveryError(`sms provider answered ${res.status}${providerCode}`, permanent);
  }
}
