import { type Mode, type OrganizationSettings, type OrganizationView, UpdateSettingsRequest } from "@authplane/contracts";
import { ValidationError } from "@authplane/service-kit";
import { z } from "zod";
import type { Prisma } from "../../generated/prisma/client.js";
import { updateSettings } from "../../usecases/update-settings.js";
import { type DashboardCaller, changeGuards, dashboardApi, htmlResponses, redirect, sendHtml } from "../api.js";
import { writeAudit } from "../audit.js";
import { html, path, type SafeHtml } from "../html.js";
import { csrfField, type FieldErrors, field, page } from "../layout.js";
import { MODES, modeParam, organizationFor, organizationIdParam, orgHeader } from "../organization-context.js";

/**
 * An organization's settings, one form per mode side by side: token lifetimes, session lifetime,
 * the WebAuthn relying party (rpId, name, origins, user verification), the consumer API's allowed
 * browser origins and the SMS destination countries. A form is turned into the Admin API's PATCH
 * body (only the fields that changed) and goes through the SAME validation as the API: the
 * request schema (`UpdateSettingsRequest`), then `updateSettings` with its validators (TTL bounds
 * and order, relying party, origins). Their messages are shown next to the field they name.
 */

/** The form as posted (text fields; lists one per line or comma-separated). */
const SettingsForm = z.object({
  accessTokenTtlSeconds: z.string().max(20).default(""),
  refreshTokenTtlSeconds: z.string().max(20).default(""),
  sessionLifetimeSeconds: z.string().max(20).default(""),
  webauthnRpId: z.string().max(1000).default(""),
  webauthnRpName: z.string().max(1000).default(""),
  webauthnOrigins: z.string().max(60_000).default(""),
  webauthnRequireUv: z.string().max(10).optional(),
  allowedOrigins: z.string().max(60_000).default(""),
  smsAllowedCountries: z.string().max(2000).default(""),
  _csrf: z.string().max(200).optional(),
});
type SettingsForm = z.infer<typeof SettingsForm>;

const lines = (text: string) =>
  text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);

/** The form's values for the current settings. */
function formOf(s: OrganizationSettings): SettingsForm {
  return {
    accessTokenTtlSeconds: String(s.accessTokenTtlSeconds),
    refreshTokenTtlSeconds: String(s.refreshTokenTtlSeconds),
    sessionLifetimeSeconds: String(s.sessionLifetimeSeconds),
    webauthnRpId: s.webauthn?.rpId ?? "",
    webauthnRpName: s.webauthn?.rpName ?? "",
    webauthnOrigins: (s.webauthn?.origins ?? []).join("\n"),
    webauthnRequireUv: s.webauthn?.requireUserVerification ? "on" : undefined,
    allowedOrigins: s.allowedOrigins.join("\n"),
    smsAllowedCountries: s.smsAllowedCountries.join(", "),
  };
}

const TTL_FIELDS = ["accessTokenTtlSeconds", "refreshTokenTtlSeconds", "sessionLifetimeSeconds"] as const;

/**
 * The PATCH body for what changed, or the form's own errors (a number that is not a number).
 * Unchanged fields are left out, so the settings event names only what the operator changed.
 */
function patchOf(formValues: SettingsForm, current: OrganizationSettings): { patch: Record<string, unknown>; errors: FieldErrors } {
  const patch: Record<string, unknown> = {};
  const errors: FieldErrors = {};
  for (const name of TTL_FIELDS) {
    const raw = formValues[name].trim();
    if (!/^\d{1,12}$/.test(raw)) {
      errors[name] = ["must be a whole number of seconds"];
      continue;
    }
    if (Number(raw) !== current[name]) patch[name] = Number(raw);
  }
  const rpId = formValues.webauthnRpId.trim();
  const rpName = formValues.webauthnRpName.trim();
  const origins = lines(formValues.webauthnOrigins);
  const webauthn =
    !rpId && !rpName && !origins.length ? null : { rpId, rpName, origins, requireUserVerification: formValues.webauthnRequireUv === "on" };
  if (JSON.stringify(webauthn) !== JSON.stringify(current.webauthn)) patch.webauthn = webauthn;
  const allowedOrigins = lines(formValues.allowedOrigins);
  if (JSON.stringify(allowedOrigins) !== JSON.stringify(current.allowedOrigins)) patch.allowedOrigins = allowedOrigins;
  const countries = formValues.smsAllowedCountries
    .split(/[\s,;]+/)
    .map((c) => c.trim())
    .filter(Boolean);
  if (JSON.stringify(countries.map((c) => c.toUpperCase()).sort()) !== JSON.stringify([...current.smsAllowedCountries].sort()))
    patch.smsAllowedCountries = countries;
  return { patch, errors };
}

/** The form field an API validation issue is about, and its message (a list item names its line). */
function fieldOf(issuePath: (string | number)[], message: string): [string, string] {
  const [first, second, third] = issuePath;
  const item = (i: unknown, what: string) => (typeof i === "number" ? `${what} ${i + 1}: ${message}` : message);
  if (first === "webauthn") {
    if (second === "rpId") return ["webauthnRpId", message];
    if (second === "rpName") return ["webauthnRpName", message];
    if (second === "origins") return ["webauthnOrigins", item(third, "Line")];
    if (second === "requireUserVerification") return ["webauthnRequireUv", message];
    return ["webauthnRpId", message];
  }
  if (first === "allowedOrigins") return ["allowedOrigins", item(second, "Line")];
  if (first === "smsAllowedCountries") return ["smsAllowedCountries", item(second, "Entry")];
  return [String(first ?? "form"), message];
}

function errorsOf(issues: Array<{ path: (string | number)[]; message: string }>): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of issues) {
    const [name, message] = fieldOf(issue.path, issue.message);
    out[name] = [...(out[name] ?? []), message];
  }
  return out;
}

function modeForm(caller: DashboardCaller, org: OrganizationView, mode: Mode, values: SettingsForm, errors: FieldErrors): SafeHtml {
  const f = (name: keyof SettingsForm, label: string, extra: { hint?: string; multiline?: boolean; type?: "number" } = {}) =>
    field({ name, label, idPrefix: `${mode}-`, value: values[name] ?? "", errors, ...extra });
  const uvId = `${mode}-webauthnRequireUv`;
  const uvErrors = errors.webauthnRequireUv ?? [];
  const hasErrors = Object.keys(errors).length > 0;
  return html`<section class="mode" aria-labelledby="settings-${mode}">
<h2 id="settings-${mode}">${mode === "live" ? "Live" : "Test"} settings</h2>
${hasErrors ? html`<p class="alert" role="alert" id="${mode}-form-error">The ${mode} settings were not saved: see the fields marked below.</p>` : ""}
${errors.form ? html`<p class="field-error">${errors.form.join(" ")}</p>` : ""}
<form method="post" action="${path("organizations", org.id, "settings", mode)}" novalidate>
${csrfField(caller.session)}
<fieldset>
<legend>Lifetimes (seconds)</legend>
${f("accessTokenTtlSeconds", "Access token lifetime", { type: "number", hint: "60 to 86400." })}
${f("refreshTokenTtlSeconds", "Refresh token lifetime", { type: "number", hint: "300 to 31536000; not shorter than the access token's." })}
${f("sessionLifetimeSeconds", "Session lifetime", { type: "number", hint: "Absolute, from sign-in: 300 to 31536000; refresh never extends a session past it." })}
</fieldset>
<fieldset>
<legend>Passkeys: relying party</legend>
${f("webauthnRpId", "Relying party id (rpId)", { hint: "A host name, e.g. shop.example. Leave rpId, name and origins empty to remove passkeys." })}
${f("webauthnRpName", "Relying party name", { hint: "Shown by the browser, e.g. Shop." })}
${f("webauthnOrigins", "Passkey origins", { multiline: true, hint: "One per line: https origins whose host is the rpId or a subdomain (http only for localhost)." })}
<div class="checkbox${uvErrors.length ? " has-error" : ""}">
<input type="checkbox" id="${uvId}" name="webauthnRequireUv"${values.webauthnRequireUv === "on" ? html` checked` : ""}${
    uvErrors.length ? html` aria-describedby="${uvId}-error" aria-invalid="true"` : ""
  }>
<label for="${uvId}">Require user verification (biometrics or PIN) for passkeys</label>
${uvErrors.length ? html`<p class="field-error" id="${uvId}-error">${uvErrors.join(" ")}</p>` : ""}
</div>
</fieldset>
<fieldset>
<legend>Browser access and SMS</legend>
${f("allowedOrigins", "Allowed browser origins (consumer API)", { multiline: true, hint: "One per line, e.g. https://shop.example. Empty: no cross-origin page may call the consumer API." })}
${f("smsAllowedCountries", "SMS destination countries", { hint: "ISO 3166-1 alpha-2 codes, comma-separated (e.g. FR, DE). Empty: every country, within the platform-wide SMS ceilings." })}
</fieldset>
<button type="submit">Save ${mode} settings</button>
</form>
</section>`;
}

function settingsPage(
  caller: DashboardCaller,
  org: OrganizationView,
  opts: { notice?: string | null; failed?: { mode: Mode; values: SettingsForm; errors: FieldErrors } },
): SafeHtml {
  return page({
    title: `${org.name}: settings`,
    session: caller.session,
    nav: "organizations",
    notice: opts.notice ?? null,
    body: html`${orgHeader(org, "settings")}
<p class="muted">SMS ceilings (per country and per organization, hourly and daily) are platform-wide limits of consumer-auth (OTP_SMS_* variables), not per-organization settings.</p>
<div class="modes">
${MODES.map((mode) =>
  opts.failed?.mode === mode
    ? modeForm(caller, org, mode, opts.failed.values, opts.failed.errors)
    : modeForm(caller, org, mode, formOf(org.settingsByMode[mode]), {}),
)}
</div>`,
  });
}

const SAVED: Record<string, string> = {
  live: "The live settings were saved.",
  test: "The test settings were saved.",
  "live-unchanged": "Nothing changed in the live settings.",
  "test-unchanged": "Nothing changed in the test settings.",
};

export const settingsEndpoints = [
  dashboardApi.endpoint({
    method: "get",
    path: "/dashboard/organizations/{organizationId}/settings",
    auth: "cookieSession",
    rateLimit: "ip",
    summary: "An organization's settings, one form per mode",
    params: z.object({ organizationId: organizationIdParam }),
    query: z.object({ saved: z.string().max(40).optional() }),
    responses: htmlResponses("The settings page."),
    handler: async (deps, { caller, params, query, res }) => {
      const org = await organizationFor(deps, caller.principal, params.organizationId);
      return sendHtml(res, settingsPage(caller, org, { notice: (query.saved && SAVED[query.saved]) || null }));
    },
  }),
  dashboardApi.endpoint({
    method: "post",
    path: "/dashboard/organizations/{organizationId}/settings/{mode}",
    auth: "cookieSession",
    rateLimit: "ip",
    before: changeGuards,
    bodyContentType: "application/x-www-form-urlencoded",
    summary: "Change one mode's settings (the Admin API's validation; errors next to the fields)",
    params: z.object({ organizationId: organizationIdParam, mode: modeParam }),
    body: SettingsForm,
    responses: htmlResponses("Never: a redirect to the settings page (400 with the form and its errors)."),
    handler: async (deps, { caller, params, body, res }) => {
      const org = await organizationFor(deps, caller.principal, params.organizationId);
      const { mode } = params;
      const current = org.settingsByMode[mode];
      const failed = (errors: FieldErrors) => sendHtml(res, settingsPage(caller, org, { failed: { mode, values: body, errors } }), 400);
      const { patch, errors } = patchOf(body, current);
      if (Object.keys(errors).length) return failed(errors);
      if (!Object.keys(patch).length) return redirect(res, `${path("organizations", org.id, "settings")}?saved=${mode}-unchanged`);
      const parsed = UpdateSettingsRequest.safeParse(patch);
      if (!parsed.success)
        return failed(errorsOf(parsed.error.issues.map((i) => ({ path: i.path as (string | number)[], message: i.message }))));
      let settings: OrganizationSettings;
      try {
        settings = await updateSettings(deps, { organizationId: org.id, mode, patch: parsed.data });
      } catch (err) {
        if (err instanceof ValidationError) return failed(errorsOf(err.issues));
        throw err;
      }
      const fields = Object.keys(parsed.data);
      const changed = Object.fromEntries(fields.map((f) => [f, settings[f as keyof OrganizationSettings] ?? null]));
      await writeAudit(deps, caller, {
        organizationId: org.id,
        mode,
        action: "settings.update",
        target: org.id,
        details: { fields, values: changed } as Prisma.InputJsonObject,
      });
      return redirect(res, `${path("organizations", org.id, "settings")}?saved=${mode}`);
    },
  }),
];
