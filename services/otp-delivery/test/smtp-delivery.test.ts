import type { AddressInfo } from "node:net";
import { EventType } from "@authplane/contracts";
import { createLogger, generateSealKeyPair, type PgPool } from "@authplane/service-kit";
import { captureLogs, createTestIsolation } from "@authplane/service-kit/testing";
import { SMTPServer } from "smtp-server";
import type { RunningService } from "../src/testing.js";
import { startTestOtpDelivery } from "../src/testing.js";
import {
  collectEvents,
  connectTestNats,
  deliveries,
  fastDelivery,
  otpJob,
  publishJob,
  type TestNats,
  testPool,
  waitFor,
} from "./support/jobs.js";

interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  authUser?: string;
}

/** Splits a MIME message into its text/plain and text/html parts, decoding quoted-printable/base64. */
function mimeParts(raw: string): { headers: string; plain: string; html: string } {
  const [headers = "", ...rest] = raw.split(/\r?\n\r?\n/);
  const body = rest.join("\r\n\r\n");
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(raw)?.[1];
  const parts = boundary ? body.split(`--${boundary}`) : [raw];
  const decode = (part: string): { type: string; text: string } => {
    const [h = "", ...b] = part.split(/\r?\n\r?\n/);
    const content = b.join("\r\n\r\n").trim();
    const type = /content-type:\s*([^;\r\n]+)/i.exec(h)?.[1]?.toLowerCase() ?? "";
    const enc = /content-transfer-encoding:\s*(\S+)/i.exec(h)?.[1]?.toLowerCase() ?? "7bit";
    let text = content;
    if (enc === "quoted-printable") {
      const bytes = content
        .replace(/=\r?\n/g, "")
        .replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
      text = Buffer.from(bytes, "latin1").toString("utf8");
    } else if (enc === "base64") text = Buffer.from(content.replace(/\s+/g, ""), "base64").toString("utf8");
    return { type, text };
  };
  const decoded = parts.map(decode);
  return {
    headers,
    plain: decoded.find((p) => p.type === "text/plain")?.text ?? "",
    html: decoded.find((p) => p.type === "text/html")?.text ?? "",
  };
}

const iso = createTestIsolation();
const received: ReceivedMail[] = [];
let smtp: SMTPServer;
let smtpPort = 0;
let nats: TestNats;
let service: RunningService;
let pool: PgPool;
const logs = captureLogs();

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === "mailer" && auth.password === "s3cret-pass") cb(null, { user: auth.username });
      else cb(new Error("Invalid username or password"));
    },
    onRcptTo(address, _session, cb) {
      // A mailbox that does not exist: a permanent 550, as real servers answer.
      if (address.address.startsWith("nobody@")) {
        const err = new Error("No such user") as Error & { responseCode: number };
        err.responseCode = 550;
        cb(err);
      } else cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString("utf8"),
          authUser: typeof session.user === "string" ? session.user : undefined,
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", () => resolve()));
  smtpPort = (smtp.server.address() as AddressInfo).port;
  nats = await connectTestNats(iso.natsUrl);
  service = await startTestOtpDelivery(
    {
      ...iso.env("otp-delivery"),
      ...fastDelivery(),
      LOG_LEVEL: "debug",
      DELIVERY_TRANSPORT: "live",
      SMTP_HOST: "127.0.0.1",
      SMTP_PORT: String(smtpPort),
      SMTP_SECURE: "false",
      SMTP_USER: "mailer",
      SMTP_PASSWORD: "s3cret-pass",
      MAIL_FROM: "Acme Login <login@acme.test>",
    },
    { logger: createLogger({ name: "otp-delivery", level: "debug", destination: logs.stream }) },
  );
  pool = testPool(iso);
});

afterAll(async () => {
  if (process.env.DUMP_LOGS) process.stderr.write(`${logs.text()}\n`);
  await service?.stop();
  await pool?.end();
  await nats?.close();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
  await iso.cleanup();
});

test("an email job is delivered by SMTP with plain-text and HTML parts (org name escaped), recorded without the code", async () => {
  const events = collectEvents(nats.nc, iso.subjects);
  const job = otpJob({ to: "jane.doe@example.com", organizationName: `Acme <b>"Shop"</b> & Co`, ttlSeconds: 600 });
  await publishJob(nats.js, iso.subjects, job);

  const mail = await waitFor(() => received.find((m) => m.to.includes("jane.doe@example.com")), 10_000);
  expect(mail.from).toBe("login@acme.test");
  expect(mail.authUser).toBe("mailer");
  const { headers, plain, html } = mimeParts(mail.raw);
  expect(headers).toMatch(/^Subject: /im);
  expect(headers).not.toContain(job.code);
  expect(plain).toContain(`Your Acme <b>"Shop"</b> & Co verification code is: ${job.code}`);
  expect(plain).toContain("It expires in 10 minutes.");
  expect(html).toContain(job.code);
  expect(html).toContain("Acme &#60;b&#62;&#34;Shop&#34;&#60;/b&#62; &#38; Co");
  expect(html).not.toContain("<b>");
  expect(html).toContain("10 minutes");

  const [row] = await waitFor(async () => {
    const rows = (await deliveries(pool)).filter((r) => r.event_id === job.id && r.status === "sent");
    return rows.length ? rows : null;
  }, 10_000);
  expect(row).toMatchObject({
    request_id: job.data.requestId,
    organization_id: job.organizationId,
    mode: "live",
    channel: "email",
    destination: "j***@example.com",
    status: "sent",
    attempts: 1,
    last_error: null,
  });
  expect(row?.id).toMatch(/^dlv_[0-9A-Z]{26}$/);
  expect(row?.provider_message_id).toMatch(/@/);

  const delivered = await waitFor(() =>
    events.events.find((e) => e.type === EventType.otpDelivered && e.data.requestId === job.data.requestId),
  );
  expect(delivered.data).toMatchObject({ deliveryId: row?.id, channel: "email", to: "j***@example.com", attempts: 1 });
  expect(JSON.stringify(delivered)).not.toContain(job.code);
  events.stop();

  // The code is nowhere but in the email itself.
  const allRows = JSON.stringify(await deliveries(pool));
  expect(allRows).not.toContain(job.code);
  expect(allRows).not.toContain("jane.doe@example.com");
  expect(logs.lines.length).toBeGreaterThan(0);
  expect(logs.text()).not.toContain(job.code);
});

test("a mailbox the server rejects with 550 fails at once: failed record and otp.v1.delivery_failed", async () => {
  const events = collectEvents(nats.nc, iso.subjects);
  const job = otpJob({ to: "nobody@example.com" });
  await publishJob(nats.js, iso.subjects, job);
  const failed = await waitFor(
    () => events.events.find((e) => e.type === EventType.otpDeliveryFailed && e.data.requestId === job.data.requestId),
    10_000,
  );
  expect(failed.data).toMatchObject({ channel: "email", to: "n***@example.com", attempts: 1 });
  expect(String(failed.data.error)).toMatch(/550/);
  const rows = (await deliveries(pool)).filter((r) => r.event_id === job.id);
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({ status: "failed", attempts: 1, provider_message_id: null });
  expect(rows[0]?.last_error).toMatch(/550/);
  expect(received.filter((m) => m.to.includes("nobody@example.com"))).toHaveLength(0);
  expect(logs.text()).not.toContain(job.code);
  events.stop();
});

test("sealed codes: a tampered, re-addressed or foreign-key box is refused (failed record, no mail, no retry loop); the next job is delivered", async () => {
  const events = collectEvents(nats.nc, iso.subjects);
  // 1. One bit of the ciphertext flipped.
  const flipped = otpJob({ to: "flipped@example.com" });
  const ct = Buffer.from(flipped.data.sealedCode.ct, "base64url");
  ct[0] = (ct[0] ?? 0) ^ 1;
  flipped.data.sealedCode.ct = ct.toString("base64url");
  // 2. A job sealed for the victim, re-addressed by whoever could publish it: the attacker's mailbox.
  const victim = otpJob({ to: "victim@example.com" });
  const readdressed = { ...victim, data: { ...victim.data, to: "attacker@example.com" } };
  // 3. Sealed to a key otp-delivery does not hold.
  const foreign = otpJob({ to: "foreign@example.com" }, generateSealKeyPair().publicKey);
  const bad = [flipped, readdressed, foreign];
  for (const job of bad) await publishJob(nats.js, iso.subjects, job);
  // A good job after them goes out: the refused ones did not wedge the consumer.
  const good = otpJob({ to: "after-tamper@example.com" });
  await publishJob(nats.js, iso.subjects, good);

  const mail = await waitFor(() => received.find((m) => m.to.includes("after-tamper@example.com")), 10_000);
  expect(mimeParts(mail.raw).plain).toContain(good.code);

  const failed = await waitFor(() => {
    const f = events.events.filter((e) => e.type === EventType.otpDeliveryFailed && bad.some((b) => b.data.requestId === e.data.requestId));
    return f.length === bad.length ? f : null;
  }, 10_000);
  for (const f of failed) expect(String(f.data.error)).toMatch(/sealed code refused/);
  for (const job of bad) {
    const rows = (await deliveries(pool)).filter((r) => r.event_id === job.id);
    expect(rows).toEqual([expect.objectContaining({ status: "failed", attempts: 1, provider_message_id: null })]);
  }
  for (const to of ["flipped@example.com", "attacker@example.com", "victim@example.com", "foreign@example.com"])
    expect(received.filter((m) => m.to.includes(to))).toHaveLength(0);
  // Acknowledged once, not redelivered: after the backoff the attempt counts are still 1.
  await new Promise((r) => setTimeout(r, 2_500));
  for (const job of bad) expect((await deliveries(pool)).find((r) => r.event_id === job.id)?.attempts).toBe(1);
  const info = await service.deps.jsm.consumers.info(iso.subjects.otpStream, service.deps.env.DELIVERY_CONSUMER_NAME);
  expect(info.num_ack_pending).toBe(0);
  expect(info.num_redelivered).toBe(0);
  expect(logs.text()).not.toContain(victim.code);
  events.stop();
});

test("a version 1 job (code in clear) is refused and never delivered", async () => {
  const job = otpJob({ to: "legacy@example.com" });
  const { sealedCode: _sealed, ...clear } = job.data;
  const legacy = { ...job, version: 1, data: { ...clear, code: job.code } };
  await nats.js.publish(iso.subjects.otpRequested, JSON.stringify(legacy), { msgID: job.id });
  const next = otpJob({ to: "after-legacy@example.com" });
  await publishJob(nats.js, iso.subjects, next);
  await waitFor(() => received.find((m) => m.to.includes("after-legacy@example.com")), 10_000);
  expect(received.filter((m) => m.to.includes("legacy@example.com") && !m.to.includes("after-legacy@example.com"))).toHaveLength(0);
  expect((await deliveries(pool)).filter((r) => r.event_id === job.id)).toHaveLength(0);
});
