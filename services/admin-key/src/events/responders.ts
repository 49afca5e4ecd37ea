import { LookupCatalog, type LookupName, type LookupUnavailableReply, SubjectNames, type Subjects } from "@authplane/contracts";
import { handleNatsMessage, type Logger, type LookupReply, type NatsConnection } from "@authplane/service-kit";
import type { Msg, Subscription } from "@nats-io/transport-node";
import type { PrismaClient } from "../generated/prisma/client.js";
import { getOrganization } from "../usecases/get-organization.js";
import { checkApiKey } from "../usecases/verify-api-key.js";

/** Queue group: several admin-key instances share the requests, each answered once. */
const RESPONDER_QUEUE = "admin-key";

export interface RespondersOptions {
  nc: NatsConnection;
  subjects: Subjects;
  prisma: PrismaClient;
  logger: Logger;
}

/**
 * Answers `keys.v1.verify` and `orgs.v1.get`, parsing each request and typing each reply with the
 * lookup catalog (the requesters parse the replies with the same schemas). A malformed request is answered "not valid"/"not
 * found"; a database fault is answered with an `{error}` body that is neither reply shape, so the
 * caller fails fast (503) instead of waiting for its request timeout.
 */
export function startResponders(opts: RespondersOptions): Subscription[] {
  const { nc, subjects, prisma, logger } = opts;
  const answer = <N extends LookupName>(msg: Msg, _lookup: N, body: LookupReply<N> | LookupUnavailableReply) => {
    try {
      msg.respond(JSON.stringify(body));
    } catch (err) {
      logger.warn({ err: (err as Error).message }, "could not respond");
    }
  };

  const verify = nc.subscribe(subjects.keysVerify, {
    queue: RESPONDER_QUEUE,
    callback: (err, msg) => {
      if (err) return;
      // In a span continuing the caller's trace, under its request id (log lines carry it).
      void handleNatsMessage(msg, async () => {
        const req = LookupCatalog[SubjectNames.keysVerify].request.safeParse(safeJson(msg));
        if (!req.success) return answer(msg, SubjectNames.keysVerify, { valid: false });
        try {
          const checked = await checkApiKey({ prisma }, { key: req.data.key });
          answer(msg, SubjectNames.keysVerify, checked.ok ? checked.verified.reply : { valid: false, reason: checked.reason });
        } catch (e) {
          // Never log the request: it carries the key.
          logger.warn({ err: (e as Error).message }, "keys.v1.verify: lookup failed");
          answer(msg, SubjectNames.keysVerify, { error: "unavailable" });
        }
      });
    },
  });

  const orgGet = nc.subscribe(subjects.orgGet, {
    queue: RESPONDER_QUEUE,
    callback: (err, msg) => {
      if (err) return;
      void handleNatsMessage(msg, async () => {
        const req = LookupCatalog[SubjectNames.orgGet].request.safeParse(safeJson(msg));
        if (!req.success) return answer(msg, SubjectNames.orgGet, { found: false });
        try {
          const org = await getOrganization({ prisma }, { organizationId: req.data.organizationId });
          // `settings` are the requested mode's (default live, as before settings were per mode).
          const mode = req.data.mode ?? "live";
          answer(
            msg,
            SubjectNames.orgGet,
            org ? { found: true, organization: { id: org.id, name: org.name }, settings: org.settingsByMode[mode] } : { found: false },
          );
        } catch (e) {
          logger.warn({ err: (e as Error).message }, "orgs.v1.get: lookup failed");
          answer(msg, SubjectNames.orgGet, { error: "unavailable" });
        }
      });
    },
  });
  return [verify, orgGet];
}

function safeJson(msg: Msg): unknown {
  try {
    return msg.json();
  } catch {
    return null;
  }
}
