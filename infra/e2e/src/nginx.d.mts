export interface Edge {
  url: string;
  dir: string;
  /** The configuration nginx runs (the rendered template). */
  conf: string;
  errors(): string;
  accessLog(): string;
  stop(): Promise<void>;
}

export declare function startNginx(opts: { vars: Record<string, string> }): Promise<Edge>;
