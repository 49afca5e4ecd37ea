#!/usr/bin/env node
// Writes infra/nats/nats-server.conf (the shipped NATS authorisation) from the one source of
// truth, packages/service-kit/src/nats-authz.ts. Build first (`npx tsc -b tsconfig.build.json`).
//   node infra/nats/generate.mjs                 # password users (the shipped file)
//   node infra/nats/generate.mjs --nkey <file>   # NKey users instead, written to <file>
//   node infra/nats/generate.mjs --stdout        # print instead of writing
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { natsServerConfig } from "../../packages/service-kit/dist/nats-authz.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const nkey = args.includes("--nkey");
const config = natsServerConfig({ auth: nkey ? "nkey" : "password" });
if (args.includes("--stdout")) process.stdout.write(config);
else {
  const target = args.find((a) => !a.startsWith("--")) ?? path.join(here, nkey ? "nats-server.nkey.conf" : "nats-server.conf");
  writeFileSync(target, config);
  process.stdout.write(`wrote ${path.relative(process.cwd(), target)}\n`);
}
