/**
 * Group commit: items added while a write is in progress go together in the next write, so N
 * concurrent deliveries cost about one round trip instead of N, without waiting for a timer when
 * there is no contention (a lone item is written at once). `write` answers one result per item,
 * in order. Each caller's promise settles with the write that carried its item: a failed write
 * rejects every item in it (the callers retry as they would after their own failed statement).
 */
export class GroupCommit<T, R = void> {
  private queue: Array<{ item: T; resolve: (r: R) => void; reject: (err: unknown) => void }> = [];
  private writing = false;

  constructor(
    private readonly write: (items: T[]) => Promise<R[]>,
    private readonly maxItems = 500,
  ) {}

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxItems);
        try {
          const results = await this.write(batch.map((b) => b.item));
          for (const [i, b] of batch.entries()) b.resolve(results[i] as R);
        } catch (err) {
          for (const b of batch) b.reject(err);
        }
      }
    } finally {
      this.writing = false;
    }
  }
}
