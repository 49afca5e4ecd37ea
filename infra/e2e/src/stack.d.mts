import type { ChildProcess } from "node:child_process";
import type { TestIsolation } from "@authplane/service-kit/testing";

export declare const root: string;
export declare function freePort(): Promise<number>;
export declare const TRACING_PRELOAD: string;
export declare const UNLIMITED_RATE_LIMITS: Readonly<Record<string, string>>;
/** Free ports from `base` upwards (any free port when `base` is 0). */
export declare function portsFrom(base: number): () => Promise<number>;

export interface StackProcess {
  name: string;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
  allOutput(): string;
}

export interface Stack {
  iso: TestIsolation;
  operatorToken: string;
  /** Base URL of each started service by name (`admin-key`, `consumer-auth`, …). */
  urls: Record<string, string>;
  /** Base URL of each started service's metrics listener (`${url}/metrics`; METRICS_PORT). */
  metricsUrls: Record<string, string>;
  /** Base URLs of every instance of each service (`instances`), the first being `urls[name]`. */
  instanceUrls: Record<string, string[]>;
  /** Base URL of the gateway ("" when not started). */
  gatewayUrl: string;
  procs: StackProcess[];
  output(name: string): string;
  allOutput(name: string): string;
  /** One more instance of a started service (same schema, prefixes, config) on a new port. */
  startReplica(name: string): Promise<string>;
  stop(): Promise<void>;
}

export interface StackOptions {
  services: string[];
  gateway?: boolean;
  /** Extra env per service name. */
  env?: Record<string, Record<string, string>>;
  readyTimeoutMs?: number;
  logLevel?: string;
  /** Keep every output line of the services (not only the last 60). */
  keepOutput?: boolean;
  /** Instances of every service (default 1), named `<service>`, `<service>#2`, …; the gateway routes to all. */
  instances?: number;
  /** Port allocator for the services and the gateway (default: any free port). */
  port?: () => Promise<number>;
  /** Node.js flags per service name, before the entry script (e.g. `["--cpu-prof", "--cpu-prof-dir=/tmp/p"]`). */
  nodeArgs?: Record<string, string[]>;
}

export declare function startStack(opts: StackOptions): Promise<Stack>;

export interface OrganizationKeys {
  publishable: { live: string; test: string };
  secret: { live: string; test: string };
}
export declare function createOrganization(
  baseUrl: string,
  operatorToken: string,
  name?: string,
): Promise<{ organization: { id: string; name: string } & Record<string, unknown>; keys: OrganizationKeys }>;
