export { type ClientErrorCode, FanfareError, type ValidationIssue } from "./errors.js";
export { Fanfare, FanfareAuth, type FanfareOptions } from "./fanfare.js";
export { MemoryStorage, type StorageOption, type TokenStorage } from "./storage.js";
export type { LockManagerLike, OtpRequest, OtpVerify, RefreshResponse, Session, SessionResponse, StoredSession } from "./types.js";
export { SDK_VERSION } from "./version.js";
