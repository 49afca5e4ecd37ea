// Checks that Postgres, Redis and NATS answer, and says how to start whichever does not.
import net from "node:net";

export const INFRA = [
  { name: "PostgreSQL", env: "DATABASE_URL", url: process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres", port: 5432 },
  { name: "Redis", env: "REDIS_URL", url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379", port: 6379 },
  { name: "NATS (JetStream)", env: "NATS_URL", url: process.env.NATS_URL ?? "nats://127.0.0.1:4222", port: 4222 },
];

function reachable(host, port, timeoutMs = 1500) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
  });
}

export async function checkInfra() {
  const missing = [];
  for (const svc of INFRA) {
    const u = new URL(svc.url.split(",")[0]);
    const host = u.hostname || "127.0.0.1";
    const port = Number(u.port || svc.port);
    if (!(await reachable(host, port))) missing.push({ ...svc, host, port });
  }
  if (missing.length === 0) return true;
  for (const m of missing)
    console.error(`✖ ${m.name} is not reachable at ${m.host}:${m.port} (from ${m.env}=${m.url.replace(/\/\/[^@]*@/, "//***@")})`);
  console.error(`
Start them with Docker:   docker compose --profile dev up -d postgres redis nats-dev
or, on a Debian machine with the packages installed:
  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  nats-server -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server &
or point ${missing.map((m) => m.env).join(", ")} at servers you already run.`);
  return false;
}
