export {
  AdminApi,
  Authplane,
  type AuthplaneOptions,
  type CallOptions,
  ConsumerServerApi,
  OperatorApi,
  PasskeyServerApi,
} from "./client.js";
export {
  type ApiFamily,
  AuthenticationError,
  AuthplaneError,
  ConflictError,
  InvalidRequestError,
  InvalidResponseError,
  isPasskeyError,
  NotFoundError,
  PASSKEY_ERROR_CODES,
  type PasskeyApiError,
  PermissionError,
  RateLimitError,
  UnavailableError,
} from "./errors.js";
