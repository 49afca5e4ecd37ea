import { Mode, OrganizationId } from "@authplane/contracts";
import { z } from "zod";
import { deliveryStats } from "../usecases/delivery-stats.js";
import { listDeliveries } from "../usecases/list-deliveries.js";
import { otpApi } from "./api.js";

/** Documents the scope headers (the authenticator reads and checks them, after the token). */
const ScopeHeaders = z.object({
  "x-organization-id": OrganizationId.meta({ description: "The organization whose deliveries (org_…)." }),
  "x-mode": Mode.meta({ description: "live or test: the mode of the keys that requested the codes." }),
});

const ListQuery = z.strictObject({
  status: z.enum(["pending", "sent", "failed"]).optional(),
  channel: z.enum(["email", "sms"]).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25).meta({ description: "Page size, 1–100 (default 25)." }),
  cursor: z.string().max(200).optional().meta({ description: "`nextCursor` of the previous page (opaque)." }),
});

const Delivery = z.object({
  id: z.string().meta({ description: "dlv_…" }),
  channel: z.enum(["email", "sms"]),
  destination: z.string().meta({ description: "Masked: j***@example.com, +1202*****34 (the full address is never stored)." }),
  status: z.enum(["pending", "sent", "failed"]),
  attempts: z.number().int(),
  failureReason: z
    .string()
    .nullable()
    .meta({ description: "Why it failed (or, while pending, why the last attempt failed); a summary, never the code or the address." }),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const StatsQuery = z.strictObject({
  days: z.coerce.number().int().min(1).max(90).default(14).meta({ description: "UTC days, today included (1–90, default 14)." }),
});

const Stats = z.object({
  days: z.array(
    z.object({
      date: z.string().meta({ description: "YYYY-MM-DD (UTC)" }),
      sent: z.number().int(),
      failed: z.number().int(),
      pending: z.number().int(),
    }),
  ),
  successRate: z
    .number()
    .min(0)
    .max(1)
    .nullable()
    .meta({ description: "sent / (sent + failed) over the window; null when there is neither." }),
});

const tags = ["Admin API"];

/** The dashboard's view of OTP deliveries: the operator token, scoped to (X-Organization-Id, X-Mode). */
export const adminApiEndpoints = [
  otpApi.endpoint({
    method: "get",
    path: "/api/v1/otp-deliveries",
    auth: "operatorToken",
    rateLimit: "ip",
    summary: "An organization's OTP deliveries in one mode, newest first",
    description:
      "Status per message with the masked destination, attempts and the failure reason. Filters `status`, `channel`; " +
      "pages of `limit` with `cursor` = the previous page's `nextCursor` (null on the last page).",
    tags,
    headers: ScopeHeaders,
    query: ListQuery,
    responses: { 200: z.object({ data: z.array(Delivery), nextCursor: z.string().nullable() }) },
    handler: (deps, { caller, query }) => listDeliveries(deps, caller.scope, query),
  }),
  otpApi.endpoint({
    method: "get",
    path: "/api/v1/stats/otp-deliveries",
    auth: "operatorToken",
    rateLimit: "ip",
    summary: "OTP deliveries per UTC day by status, and the success rate",
    tags,
    headers: ScopeHeaders,
    query: StatsQuery,
    responses: { 200: Stats },
    handler: (deps, { caller, query }) => deliveryStats(deps, caller.scope, query),
  }),
];
