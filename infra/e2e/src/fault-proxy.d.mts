export type FaultMode = "forward" | "cut" | "blackhole";

export interface FaultProxy {
  name: string;
  /** The proxy's own port on 127.0.0.1 (stable across cut/restore). */
  port: number;
  readonly mode: FaultMode;
  /** Open connections through the proxy right now. */
  readonly connections: number;
  /** `realUrl` with host/port replaced by the proxy's (scheme, credentials and path kept). */
  url(realUrl: string): string;
  /** Destroy every current connection and refuse new ones (ECONNREFUSED). */
  cut(): Promise<void>;
  /** Accept connections but forward nothing either way (held, not dropped) until restore(). */
  blackhole(): void;
  /** Forward again (re-listens on the same port after a cut). */
  restore(): Promise<void>;
  close(): Promise<void>;
}

export declare function startFaultProxy(target: { host?: string; port: number; name?: string }): Promise<FaultProxy>;
