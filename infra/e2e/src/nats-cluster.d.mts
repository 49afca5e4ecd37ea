import type { ChildProcess } from "node:child_process";

export interface NatsNode {
  /** server_name (`n1`, `n2`, …). */
  name: string;
  client: number;
  cluster: number;
  monitor: number;
  store: string;
  config: string;
  proc: ChildProcess | null;
}

export interface NatsCluster {
  dir: string;
  nodes: NatsNode[];
  /** `nats://…` of every node, comma-separated (the services' NATS_URL). */
  url: string;
  start(i: number): void;
  kill(i: number): Promise<void>;
  waitHealthy(i: number, timeoutMs?: number): Promise<void>;
  log(i: number): string;
  stop(): Promise<void>;
}

export declare function startNatsCluster(opts: {
  nodes?: number;
  /** Port allocator (client, cluster and monitor port of each node). */
  port: () => Promise<number>;
  /** Environment of the servers (the authorisation's password variables). */
  env?: Record<string, string>;
  /** Authorization block (default: infra/nats/nats-server.conf). */
  authorization?: string;
}): Promise<NatsCluster>;
