export { createApp } from "./app.js";
export { type AppDeps, buildDeps, closeDeps } from "./deps.js";
export { Env } from "./env.js";
export { generateApiKey, hashApiKey } from "./api-key-format.js";
export { migrate, MIGRATIONS_DIR } from "./migrate.js";
