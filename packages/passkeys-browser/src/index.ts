export type { ApiError, HttpFailure } from "./api.js";
export type { ErrorCode, ErrorDetails, Result } from "./errors.js";
export {
  type AuthResponse,
  Passkeys,
  type RegisterResponse,
  SDK,
  type SDKOptions,
  type TokenInfo,
  type UserAuthenticationInfo,
  type UserRegistrationInfo,
} from "./sdk.js";
export { SDK_VERSION } from "./version.js";
