export { createApp } from "./app.js";
export { type AppDeps, buildDeps, closeDeps } from "./deps.js";
export { Env } from "./env.js";
export { type IssueSessionInput, issueSession, newConsumerId } from "./usecases/issue-session.js";
export { type AccessTokenClaims, verifyAccessToken } from "./usecases/verify-access-token.js";
