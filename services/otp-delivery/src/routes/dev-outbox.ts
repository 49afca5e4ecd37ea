import { z } from "zod";
import { listDevOutbox } from "../usecases/list-dev-outbox.js";
import { otpApi } from "./api.js";

const Query = z.object({ to: z.string().max(320).optional().meta({ description: "An email address or an E.164 phone number." }) });

const DevOutboxResponse = z.object({
  messages: z.array(
    z.object({
      id: z.string(),
      channel: z.string().meta({ description: "email or sms" }),
      to: z.string(),
      subject: z.string().nullable(),
      text: z.string(),
      code: z.string(),
      createdAt: z.string(),
    }),
  ),
});

/** Mounted only with the dev transport outside production: the dev outbox shows OTP codes. */
export const devOutboxEndpoints = [
  otpApi.endpoint({
    method: "get",
    path: "/dev/outbox",
    auth: "none",
    summary: "Messages the dev transport stored (codes included), newest first, at most 50",
    description: "Development only (DELIVERY_TRANSPORT=dev, NODE_ENV not production): nothing is sent, each message is stored here.",
    tags: ["Development"],
    query: Query,
    responses: { 200: DevOutboxResponse },
    errors: { 400: ["invalid_recipient"] },
    handler: (deps, { query }) => listDevOutbox(deps, query),
  }),
];
