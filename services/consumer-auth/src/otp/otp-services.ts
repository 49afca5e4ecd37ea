import type { Subjects } from "@authplane/contracts";
import type { JetStreamClient, JetStreamManager, Logger, Metrics, Redis } from "@authplane/service-kit";
import { OtpCodeStore } from "./code-store.js";
import { type OtpConfig, type OtpEnv, otpConfigFromEnv } from "./config.js";
import { OtpLimits } from "./limits.js";
import { OtpJobPublisher } from "./otp-jobs.js";

/** The OTP helpers one app instance uses, built from its shared connections. */
export interface OtpServices {
  config: OtpConfig;
  codes: OtpCodeStore;
  limits: OtpLimits;
  jobs: OtpJobPublisher;
  logger: Logger;
}

export function createOtpServices(deps: {
  env: OtpEnv & { RATE_LIMIT_IPV6_PREFIX?: number; NATS_STREAM_REPLICAS?: number };
  redis: Redis;
  js: JetStreamClient;
  jsm: JetStreamManager;
  subjects: Subjects;
  logger: Logger;
  /** Counts queued jobs (`otp_requested_total{channel}`). */
  metrics?: Metrics;
}): OtpServices {
  const config = otpConfigFromEnv(deps.env);
  return {
    config,
    codes: new OtpCodeStore(deps.redis, config),
    limits: new OtpLimits(deps.redis, config, deps.env.RATE_LIMIT_IPV6_PREFIX),
    jobs: new OtpJobPublisher({
      js: deps.js,
      jsm: deps.jsm,
      subjects: deps.subjects,
      ttlSeconds: config.ttlSeconds,
      streamReplicas: deps.env.NATS_STREAM_REPLICAS,
      sealPublicKey: config.sealPublicKey,
      metrics: deps.metrics,
    }),
    logger: deps.logger,
  };
}
