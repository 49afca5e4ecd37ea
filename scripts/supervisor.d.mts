import type { ChildProcess } from "node:child_process";

export interface SuperviseOptions {
  name: string;
  start: () => ChildProcess;
  log?: (line: string) => void;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  stableAfterMs?: number;
  killAfterMs?: number;
}

export interface Supervised {
  readonly child: ChildProcess | null;
  readonly restarts: number;
  onRestart(fn: (child: ChildProcess | null) => void): () => boolean;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export declare function supervise(opts: SuperviseOptions): Supervised;
