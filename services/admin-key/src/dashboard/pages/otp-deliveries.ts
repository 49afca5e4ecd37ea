import { z } from "zod";
import { load, type OtpDelivery, otpDeliveries } from "../admin-services.js";
import { dashboardApi, htmlResponses, sendHtml } from "../api.js";
import { html, path } from "../html.js";
import { page, time } from "../layout.js";
import { ModeQuery, modePath, organizationFor, organizationIdParam, orgHeader } from "../organization-context.js";

/**
 * An organization's OTP deliveries in one mode (otp-delivery's Admin API through the gateway):
 * status per message with the masked destination (masked by otp-delivery: the full address is
 * never stored there), attempts and the failure reason; filters by status and channel.
 */

const Query = z.object({
  mode: ModeQuery,
  status: z.enum(["", "pending", "sent", "failed"]).optional(),
  channel: z.enum(["", "email", "sms"]).optional(),
  cursor: z.string().max(256).optional(),
});

function select(id: string, label: string, value: string | undefined, options: Array<[string, string]>) {
  return html`<div class="field">
<label for="${id}">${label}</label>
<select id="${id}" name="${id}">
${options.map(([v, text]) => html`<option value="${v}"${(value ?? "") === v ? html` selected` : ""}>${text}</option>`)}
</select>
</div>`;
}

function row(d: OtpDelivery) {
  return html`<tr>
<td>${time(d.createdAt)}</td><td>${d.channel}</td><td><code>${d.destination}</code></td>
<td><span class="status-${d.status}">${d.status}</span></td><td>${d.attempts}</td>
<td>${d.failureReason ?? html`<span class="muted">—</span>`}</td><td>${time(d.updatedAt)}</td>
</tr>`;
}

export const otpDeliveryEndpoints = [
  dashboardApi.endpoint({
    method: "get",
    path: "/dashboard/organizations/{organizationId}/otp-deliveries",
    auth: "cookieSession",
    rateLimit: "ip",
    summary: "An organization's OTP deliveries in one mode: status, masked destination, attempts, failure reason",
    params: z.object({ organizationId: organizationIdParam }),
    query: Query,
    responses: htmlResponses("The deliveries (or, with status 503, why they could not be loaded)."),
    handler: async (deps, { caller, params, query, res }) => {
      const org = await organizationFor(deps, caller.principal, params.organizationId);
      const { mode } = query;
      const status = query.status || undefined;
      const channel = query.channel || undefined;
      const list = await load(
        "The OTP deliveries",
        otpDeliveries.list(deps, { organizationId: org.id, mode }, { status, channel, cursor: query.cursor }),
      );
      const filtered = status || channel;
      return sendHtml(
        res,
        page({
          title: `${org.name}: OTP deliveries`,
          session: caller.session,
          nav: "organizations",
          alert: list.ok ? null : list.message,
          body: html`${orgHeader(org, "otp-deliveries", mode)}
<form class="search filters" method="get" action="${path("organizations", org.id, "otp-deliveries")}">
<input type="hidden" name="mode" value="${mode}">
${select("status", "Status", status, [
  ["", "any status"],
  ["pending", "pending"],
  ["sent", "sent"],
  ["failed", "failed"],
])}
${select("channel", "Channel", channel, [
  ["", "any channel"],
  ["email", "email"],
  ["sms", "SMS"],
])}
<button type="submit">Filter</button>
</form>
${
  list.ok
    ? html`<table>
<caption>${mode === "live" ? "Live" : "Test"} OTP deliveries${filtered ? html` (${[status, channel].filter(Boolean).join(", ")})` : ""}, newest first</caption>
<thead><tr><th scope="col">Requested</th><th scope="col">Channel</th><th scope="col">Destination (masked)</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Failure reason</th><th scope="col">Updated</th></tr></thead>
<tbody>
${list.value.data.length ? list.value.data.map(row) : html`<tr><td colspan="7">No OTP deliveries${filtered ? " match these filters" : ""}.</td></tr>`}
</tbody>
</table>
${
  list.value.nextCursor
    ? html`<p><a href="${modePath(mode, ["organizations", org.id, "otp-deliveries"], { status, channel, cursor: list.value.nextCursor })}">Older deliveries</a></p>`
    : ""
}`
    : ""
}`,
        }),
        list.ok ? 200 : 503,
      );
    },
  }),
];
