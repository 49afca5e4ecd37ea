import { parseInput } from "@authplane/service-kit";
import { Router } from "express";
import { z } from "zod";
import { Errors } from "../errors.js";
import type { PrismaClient } from "../generated/prisma/client.js";

const Query = z.object({ to: z.string().max(320).optional() });

const E164 = /^\+[1-9]\d{5,14}$/;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

/**
 * Normalises `to` like consumer-auth does: emails lower-cased; phone numbers are E.164 as given.
 * An unencoded `+` in a query string decodes to a space, so a leading space before digits is read
 * as the `+` the caller meant (`?to=+15551234567` from a browser or curl).
 */
export function normalizeOutboxRecipient(raw: string): string | null {
  const fixed = /^ \d/.test(raw) ? `+${raw.slice(1)}` : raw;
  const value = fixed.trim();
  if (value.includes("@")) return EMAIL.test(value) ? value.toLowerCase() : null;
  const phone = value.replace(/[\s()-]/g, "");
  return E164.test(phone) ? phone : null;
}

/** GET /dev/outbox?to=… : messages stored by the dev transport, newest first (dev only). */
export function devOutboxRouter(prisma: PrismaClient): Router {
  const router = Router();
  router.get("/dev/outbox", async (req, res) => {
    const { to } = parseInput(Query, req.query);
    let recipient: string | undefined;
    if (to !== undefined) {
      const normalized = normalizeOutboxRecipient(to);
      if (!normalized) throw Errors.invalidRecipient();
      recipient = normalized;
    }
    const rows = await prisma.devMessage.findMany({
      where: recipient ? { to: recipient } : {},
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: 50,
    });
    res.setHeader("Cache-Control", "no-store");
    res.json({
      messages: rows.map((m) => ({
        id: m.id,
        channel: m.channel,
        to: m.to,
        subject: m.subject,
        text: m.text,
        code: m.code,
        createdAt: m.createdAt.toISOString(),
      })),
    });
  });
  return router;
}
