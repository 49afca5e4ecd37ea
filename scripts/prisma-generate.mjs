#!/usr/bin/env node
// Runs `prisma generate` for the service in the current directory, offline.
// Prisma 7's CLI wants a schema-engine binary path even though `generate` never runs it; the
// engine download is impossible offline, so point it at any existing file (documented trap).
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";

const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
env.PRISMA_HIDE_UPDATE_MESSAGE = "1";
env.CHECKPOINT_DISABLE = "1";
// prisma.config.ts reads DATABASE_URL; generate never connects, so any well-formed URL will do.
env.DATABASE_URL ??= "postgresql://postgres@127.0.0.1:5432/postgres";
const require = createRequire(path.join(process.cwd(), "package.json"));
const cli = require.resolve("prisma/build/index.js");
const r = spawnSync(process.execPath, [cli, "generate"], { stdio: ["ignore", "pipe", "inherit"], env });
if (r.status !== 0) {
  process.stdout.write(r.stdout ?? "");
  process.exit(r.status ?? 1);
}
