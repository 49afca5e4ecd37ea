import { createResponseValidator, type ResponseValidator } from "@authplane/service-kit/testing";
import { otpDeliveryOpenApi } from "../../src/app.js";

/**
 * otp-delivery's test harness for HTTP calls: `fetchChecked` is `fetch`, except that every response
 * is checked against the service's OpenAPI document (the dev-transport configuration the suite runs:
 * declared status, content type, body schema and error codes), so the suite validates what the
 * service answers. The response is handed back unread.
 */
export const validator: ResponseValidator = createResponseValidator(otpDeliveryOpenApi({ devOutbox: true }));

export async function fetchChecked(url: string, init?: RequestInit): Promise<Response> {
  const res = await fetch(url, init);
  const text = await res.text();
  const headers: Record<string, string> = {};
  res.headers.forEach((value, key) => {
    headers[key] = value;
  });
  const json = (headers["content-type"] ?? "").includes("json") && text ? (JSON.parse(text) as unknown) : undefined;
  validator.assert(init?.method ?? "GET", url, { status: res.status, headers, body: json, text });
  return new Response(res.status === 204 || res.status === 304 ? null : text, {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
  });
}
