import { EventType } from "@authplane/contracts";
import { normalizeIdentity } from "../src/otp/normalize-identity.js";
import { createOtpServices } from "../src/otp/otp-services.js";
import { type ConsumerAuthForTest, startConsumerAuthForTest } from "../src/testing.js";
import { startWorld, type World, request } from "./helpers.js";

// OTP verify and external exchange upgrade a guest through one path (usecases/upgrade-guest.ts).
// Fired at the same moment with the same guest token (two tabs, two pods), they must upgrade the
// guest exactly once: one guest -> one consumer, its sessions revoked once, one event.

let w: World;
/** A second instance (another pod) on the same Postgres/Redis/NATS. */
let pod2: ConsumerAuthForTest;
beforeAll(async () => {
  w = await startWorld();
  pod2 = await startConsumerAuthForTest(w.iso);
});
afterAll(async () => {
  await pod2?.stop();
  await w?.stop();
});

const pk = () => w.orgA.keys.publishable.live;

async function outboxCount(type: string, path: string[], value: string): Promise<number> {
  return w.ca.deps.prisma.outboxEvent.count({ where: { type, payload: { path, equals: value } } });
}

test("a concurrent OTP verify and exchange of one guest upgrade it once; its sessions are revoked once", async () => {
  const otp = createOtpServices(w.ca.deps);
  for (let round = 0; round < 6; round++) {
    const g = await request(w.ca.app).post("/api/v1/auth/guest").set("X-Publishable-Key", pk());
    expect(g.status).toBe(200);
    const guestId: string = g.body.session.consumerId;
    const guestSessionId: string = g.body.session.sessionId;
    const email = `race_${round}_${Date.now()}@example.com`;
    await otp.codes.store({ organizationId: w.orgA.organization.id, mode: "live" }, normalizeIdentity({ email }), "135791", "otp_test");
    const subject = `race_${round}_${Date.now()}`;
    const a = await request(w.ca.app)
      .post("/api/v1/auth/external/authorize")
      .set("Authorization", `Bearer ${w.orgA.keys.secret.live}`)
      .send({ provider: "shopify", issuer: "https://race.example", subject });
    expect(a.body.resolution).toBe("created");

    // Alternate which pod gets which call, so neither always starts first.
    const [viaOtp, viaExchange] = round % 2 === 0 ? [w.ca.app, pod2.app] : [pod2.app, w.ca.app];
    const [v, x] = await Promise.all([
      request(viaOtp)
        .post("/api/v1/auth/otp/verify")
        .set("X-Publishable-Key", pk())
        .set("Authorization", `Bearer ${g.body.accessToken}`)
        .send({ email, code: "135791" }),
      request(viaExchange)
        .post("/api/v1/auth/external/exchange")
        .set("X-Publishable-Key", pk())
        .set("Authorization", `Bearer ${g.body.accessToken}`)
        .send({ exchangeCode: a.body.exchangeCode }),
    ]);
    // The loser either got its own new consumer (it passed the token check before the winner
    // committed) or was refused because the winner's upgrade revoked the guest token it carried.
    for (const r of [v, x]) {
      expect([200, 401]).toContain(r.status);
      if (r.status === 401) expect(r.body.error).toBe("invalid_token");
    }
    const asGuest = [v, x].filter((r) => r.status === 200 && r.body.session.consumerId === guestId);
    expect({ upgradedBy: asGuest.map((r) => r.body.session.type) }).toEqual({ upgradedBy: [expect.any(String)] });
    const otpWon = asGuest[0] === v;

    // One guest -> one consumer: it holds the winner's identity and only that one.
    const guest = await w.ca.deps.prisma.consumer.findUniqueOrThrow({ where: { id: guestId } });
    expect(guest.kind).toBe("registered");
    expect(guest.upgradedAt).toBeInstanceOf(Date);
    expect(guest.email).toBe(otpWon ? email : null);
    const linked = await w.ca.deps.prisma.externalIdentity.findMany({ where: { consumerId: guestId } });
    expect(linked.map((l) => l.subject)).toEqual(otpWon ? [] : [subject]);
    expect(await outboxCount(EventType.consumerUpgraded, ["data", "consumerId"], guestId)).toBe(1);

    // The guest's session is revoked once, by the upgrade; the winner's new session stays valid.
    expect(await outboxCount(EventType.sessionRevoked, ["data", "sessionId"], guestSessionId)).toBe(1);
    const revoked = await w.ca.deps.prisma.session.findUniqueOrThrow({ where: { id: guestSessionId } });
    expect(revoked.revokedReason).toBe("guest_upgrade");
    const winner = asGuest[0]?.body;
    const winnerSession = await w.ca.deps.prisma.session.findUniqueOrThrow({ where: { id: winner.session.sessionId } });
    expect(winnerSession.revokedAt).toBeNull();
    const check = await request(w.ca.app)
      .get("/api/v1/auth/check")
      .set("Authorization", `Bearer ${winner.accessToken}`)
      .set("X-Publishable-Key", pk());
    expect(check.status).toBe(200);
  }
});
