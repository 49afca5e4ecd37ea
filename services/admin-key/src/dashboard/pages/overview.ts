import { z } from "zod";
import { consumerAuth, load, otpDeliveries, passkeys, type Scope } from "../admin-services.js";
import { dashboardApi, htmlResponses, sendHtml } from "../api.js";
import { ratioBar, stackedBars } from "../charts.js";
import { html, type SafeHtml } from "../html.js";
import { page } from "../layout.js";
import { ModeQuery, organizationFor, organizationIdParam, orgHeader } from "../organization-context.js";

/**
 * An organization's numbers at a glance, one mode at a time, over the last 14 UTC days: sign-ins
 * per day by method, OTP delivery success rate (and deliveries per day), active sessions, passkey
 * adoption (users with an active passkey / consumers). From the three services' stats endpoints
 * (through the gateway), as small server-rendered SVG charts with their numbers in tables. A
 * service that fails leaves a message in its section; the others still show.
 */

const DAYS = 14;

const METHODS = [
  { key: "guest", label: "guest", cls: "series-1" },
  { key: "email_otp", label: "email code", cls: "series-2" },
  { key: "phone_otp", label: "SMS code", cls: "series-3" },
  { key: "external", label: "external", cls: "series-4" },
] as const;

const failed = (message: string): SafeHtml => html`<p class="alert" role="alert">${message}</p>`;

export const overviewEndpoints = [
  dashboardApi.endpoint({
    method: "get",
    path: "/dashboard/organizations/{organizationId}/overview",
    auth: "cookieSession",
    rateLimit: "ip",
    summary: "An organization's numbers in one mode: sign-ins per day by method, OTP success rate, active sessions, passkey adoption",
    params: z.object({ organizationId: organizationIdParam }),
    query: z.object({ mode: ModeQuery }),
    responses: htmlResponses("The overview (a section whose service failed says so)."),
    handler: async (deps, { caller, params, query, res }) => {
      const org = await organizationFor(deps, caller.principal, params.organizationId);
      const scope: Scope = { organizationId: org.id, mode: query.mode };
      const [consumers, otp, keys] = await Promise.all([
        load("Sign-ins and sessions", consumerAuth.stats(deps, scope, DAYS)),
        load("OTP deliveries", otpDeliveries.stats(deps, scope, DAYS)),
        load("Passkeys", passkeys.stats(deps, scope, DAYS)),
      ]);
      const total = consumers.ok ? consumers.value.days.reduce((n, d) => n + METHODS.reduce((m, k) => m + d.signIns[k.key], 0), 0) : 0;
      const otpTotals = otp.ok
        ? otp.value.days.reduce((t, d) => ({ sent: t.sent + d.sent, failed: t.failed + d.failed }), { sent: 0, failed: 0 })
        : null;
      const body = html`${orgHeader(org, "overview", query.mode)}
<p>The last ${DAYS} days (UTC), ${query.mode} mode.</p>
<section aria-labelledby="glance-heading">
<h2 id="glance-heading">At a glance</h2>
<dl class="glance">
<div><dt>Active sessions</dt><dd>${consumers.ok ? consumers.value.activeSessions : "—"}</dd></div>
<div><dt>Consumers</dt><dd>${consumers.ok ? html`${consumers.value.consumers.total} <span class="muted">(${consumers.value.consumers.registered} registered, ${consumers.value.consumers.guest} guests)</span>` : "—"}</dd></div>
<div><dt>Sign-ins, ${DAYS} days</dt><dd>${consumers.ok ? total : "—"}</dd></div>
<div><dt>OTP delivery success rate</dt><dd>${otp.ok ? (otp.value.successRate === null ? "no deliveries" : `${(otp.value.successRate * 100).toFixed(1)}%`) : "—"}</dd></div>
<div><dt>Users with a passkey</dt><dd>${keys.ok ? keys.value.usersWithPasskeys : "—"}</dd></div>
</dl>
</section>
<section aria-labelledby="signins-heading">
<h2 id="signins-heading">Sign-ins per day by method</h2>
${
  consumers.ok
    ? stackedBars({
        id: "chart-signins",
        title: "Sign-ins per day by method",
        description: `${total} sign-ins in ${DAYS} days: ${METHODS.map((m) => `${consumers.value.days.reduce((n, d) => n + d.signIns[m.key], 0)} ${m.label}`).join(", ")}.`,
        labels: consumers.value.days.map((d) => d.date),
        series: METHODS.map((m) => ({ label: m.label, cls: m.cls })),
        values: METHODS.map((m) => consumers.value.days.map((d) => d.signIns[m.key])),
        labelHeader: "Day (UTC)",
      })
    : failed(consumers.message)
}
</section>
<section aria-labelledby="otp-heading">
<h2 id="otp-heading">OTP deliveries</h2>
${
  otp.ok && otpTotals
    ? html`${ratioBar({ id: "chart-otp-rate", title: "OTP delivery success rate", part: otpTotals.sent, whole: otpTotals.sent + otpTotals.failed, partLabel: "delivered", wholeLabel: "finished deliveries" })}
${stackedBars({
  id: "chart-otp",
  title: "OTP deliveries per day by status",
  description: `${otpTotals.sent} sent, ${otpTotals.failed} failed, ${otp.value.days.reduce((n, d) => n + d.pending, 0)} pending in ${DAYS} days.`,
  labels: otp.value.days.map((d) => d.date),
  series: [
    { label: "sent", cls: "series-1" },
    { label: "failed", cls: "series-danger" },
    { label: "pending", cls: "series-3" },
  ],
  values: [otp.value.days.map((d) => d.sent), otp.value.days.map((d) => d.failed), otp.value.days.map((d) => d.pending)],
  labelHeader: "Day (UTC)",
})}`
    : failed(otp.ok ? "" : otp.message)
}
</section>
<section aria-labelledby="passkeys-heading">
<h2 id="passkeys-heading">Passkey adoption</h2>
${
  keys.ok && consumers.ok
    ? html`${ratioBar({ id: "chart-adoption", title: "Passkey adoption", part: keys.value.usersWithPasskeys, whole: consumers.value.consumers.total, partLabel: "have an active passkey", wholeLabel: "consumers" })}
<p>${keys.value.activeCredentials} active passkeys.</p>
${stackedBars({
  id: "chart-passkeys",
  title: "Passkey registrations and sign-ins per day",
  description: `${keys.value.days.reduce((n, d) => n + d.registrations, 0)} registrations and ${keys.value.days.reduce((n, d) => n + d.verifications, 0)} passkey sign-ins in ${DAYS} days.`,
  labels: keys.value.days.map((d) => d.date),
  series: [
    { label: "registrations", cls: "series-2" },
    { label: "sign-ins", cls: "series-1" },
  ],
  values: [keys.value.days.map((d) => d.registrations), keys.value.days.map((d) => d.verifications)],
  labelHeader: "Day (UTC)",
})}`
    : failed(keys.ok ? (consumers.ok ? "" : "Passkey adoption needs the number of consumers, which could not be loaded.") : keys.message)
}
</section>`;
      return sendHtml(res, page({ title: `${org.name}: overview`, session: caller.session, nav: "organizations", body }));
    },
  }),
];
