import type { SessionResponse, VerifiedKey } from "@authplane/contracts";
import type { AppDeps } from "../deps.js";
import { issueSession, newConsumerId } from "./issue-session.js";

/** POST /guest: a new guest consumer and its session, in one statement. */
export async function createGuestSession(
  deps: AppDeps,
  input: { key: VerifiedKey; ip?: string; userAgent?: string },
): Promise<SessionResponse> {
  return issueSession(deps, {
    organizationId: input.key.organizationId,
    mode: input.key.mode,
    sessionType: "guest",
    method: "guest",
    consumer: { id: newConsumerId("guest"), kind: "guest", create: true },
    settings: input.key.settings,
    ip: input.ip,
    userAgent: input.userAgent,
  });
}
