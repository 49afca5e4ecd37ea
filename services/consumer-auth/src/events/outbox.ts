import type { EventEnvelope } from "@authplane/contracts";
import type { Prisma } from "../generated/prisma/client.js";

/**
 * Prisma create data for an outbox row. The envelope is plain JSON by construction (zod contract),
 * but its `data: Record<string, unknown>` is wider than Prisma's InputJsonValue, hence the cast.
 */
export function outboxData(event: EventEnvelope): Prisma.OutboxEventCreateManyInput {
  return { id: event.id, type: event.type, payload: event as unknown as Prisma.InputJsonObject };
}
