import { ChallengeStore } from "./challenges.js";
import type { AppDeps } from "./deps.js";
import { OneTimeTokens } from "./one-time-tokens.js";
import { UsernameHasher } from "./usernames.js";

/** Deps plus the Redis stores built from them; what the use cases take. */
export interface Ctx extends AppDeps {
  challenges: ChallengeStore;
  tokens: OneTimeTokens;
  usernames: UsernameHasher;
}

export function createCtx(deps: AppDeps): Ctx {
  return {
    ...deps,
    challenges: new ChallengeStore(deps.redis, deps.env.CHALLENGE_TTL_SECONDS),
    tokens: new OneTimeTokens(deps.redis, deps.env.TOKEN_TTL_SECONDS, deps.env.TOKEN_TOMBSTONE_SECONDS),
    usernames: new UsernameHasher(deps.env.USERNAME_HASH_SECRET),
  };
}
