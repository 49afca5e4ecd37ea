import type { EventEnvelope } from "@authplane/contracts";
import { outboxRow } from "@authplane/service-kit";
import type { Prisma } from "../generated/prisma/client.js";

/** outboxRow typed for this Prisma client (an envelope is plain JSON by construction). */
export function outboxData(event: EventEnvelope): Prisma.OutboxEventCreateInput {
  const row = outboxRow(event);
  return { ...row, payload: row.payload as unknown as Prisma.InputJsonObject };
}
