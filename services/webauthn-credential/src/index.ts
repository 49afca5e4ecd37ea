export { createApp, webauthnOpenApi } from "./app.js";
export { type AppDeps, buildDeps, closeDeps } from "./deps.js";
export { Env } from "./env.js";
export { migrate } from "./migrate.js";
