// otp-drain: otp-delivery's own throughput, without consumer-auth in front of it. N sealed
// delivery jobs (as consumer-auth builds them) are published straight to JetStream as fast as it
// acks; the time until all N are in the dev outbox and otp-delivery's CPU per delivery are measured.
import { OTP_REQUESTED_TYPE, OTP_REQUESTED_VERSION } from "@authplane/contracts";
import { PgClient } from "@authplane/e2e/pg";
import {
  connectJetStream,
  DEV_OTP_SEAL_KEYS,
  ensureStream,
  importSealPublicKey,
  newEvent,
  newEventId,
  sealOtpCode,
} from "@authplane/service-kit";
import { cpuMs, fmt } from "./measure.mjs";

export async function drainOtp({ iso, schema, jobs, pid, log }) {
  const { nc, js, jsm } = await connectJetStream(iso.natsUrl, "bench-otp-drain");
  const db = new PgClient({ connectionString: iso.databaseUrl });
  await db.connect();
  try {
    const subjects = iso.subjects;
    await ensureStream(jsm, { name: subjects.otpStream, subjects: [subjects.otpRequested], maxAgeSeconds: 600 });
    const marker = `d-${Date.now().toString(36)}-`;
    const publicKey = importSealPublicKey(DEV_OTP_SEAL_KEYS.publicKey);
    const envelopes = Array.from({ length: jobs }, (_, i) => {
      const to = `${marker}${i}@bench.example`;
      // The code is sealed to the job's id, so the id comes first (as consumer-auth does it).
      const id = newEventId();
      const scope = { organizationId: "org_bench", mode: "live" };
      const plain = {
        requestId: `otp_bench${i}`,
        channel: "email",
        to,
        expiresAt: new Date(Date.now() + 600_000).toISOString(),
        ttlSeconds: 600,
        organizationName: "Bench",
      };
      const sealedCode = sealOtpCode(String(100000 + (i % 900000)), publicKey, {
        eventId: id,
        ...scope,
        requestId: plain.requestId,
        channel: "email",
        to,
      });
      return newEvent(OTP_REQUESTED_TYPE, scope, { ...plain, sealedCode }, { id, version: OTP_REQUESTED_VERSION });
    });
    const delivered = async () =>
      Number((await db.query(`SELECT count(*)::int AS n FROM "${schema}".dev_messages WHERE "to" LIKE $1`, [`${marker}%`])).rows[0].n);
    const cpu0 = cpuMs(pid);
    const t0 = performance.now();
    // 200 publishes in flight at a time.
    for (let i = 0; i < envelopes.length; i += 200)
      await Promise.all(envelopes.slice(i, i + 200).map((e) => js.publish(subjects.otpRequested, JSON.stringify(e), { msgID: e.id })));
    const published = (performance.now() - t0) / 1000;
    let n = await delivered();
    const deadline = performance.now() + 300_000;
    while (n < jobs && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      n = await delivered();
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = (cpuMs(pid) - cpu0) / Math.max(1, n);
    log(`  otp-drain: ${fmt(jobs)} jobs published in ${fmt(published, 1)} s, ${fmt(n)} delivered in ${fmt(seconds, 1)} s`);
    return {
      drained: n >= jobs,
      rows: [
        ["jobs published straight to JetStream", fmt(jobs)],
        ["delivered", `${fmt(n)} in ${fmt(seconds, 1)} s`],
        ["deliveries/s (otp-delivery alone)", fmt(n / seconds)],
        ["otp-delivery CPU ms per delivery", fmt(cpu, 2)],
      ],
    };
  } finally {
    await db.end();
    await nc.close();
  }
}
