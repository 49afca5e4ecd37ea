/**
 * Where the session (tokens) is kept. `window.localStorage` and `window.sessionStorage` fit as
 * they are; an async store (e.g. one backed by IndexedDB) may return promises.
 */
export interface TokenStorage {
  getItem(key: string): string | null | Promise<string | null>;
  setItem(key: string, value: string): void | Promise<void>;
  removeItem(key: string): void | Promise<void>;
}

/** A store that lives as long as the page: nothing survives a reload or reaches another tab. */
export class MemoryStorage implements TokenStorage {
  private readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
}

export type StorageOption = TokenStorage | "localStorage" | "sessionStorage" | "memory";

/**
 * The Web Storage area by name, or null where it is missing or throws on access (blocked
 * third-party storage, some private modes).
 */
function webStorage(name: "localStorage" | "sessionStorage"): Storage | null {
  try {
    const area = (globalThis as unknown as Record<string, Storage | undefined>)[name];
    if (!area) return null;
    const probe = "__fanfare_probe__";
    area.setItem(probe, "1");
    area.removeItem(probe);
    return area;
  } catch {
    return null;
  }
}

/** Default: localStorage (shared by the origin's tabs, survives reloads); memory where it is unusable. */
export function resolveStorage(option: StorageOption | undefined): { storage: TokenStorage; isLocalStorage: boolean } {
  if (option === undefined || option === "localStorage") {
    const area = webStorage("localStorage");
    return area ? { storage: area, isLocalStorage: true } : { storage: new MemoryStorage(), isLocalStorage: false };
  }
  if (option === "sessionStorage") return { storage: webStorage("sessionStorage") ?? new MemoryStorage(), isLocalStorage: false };
  if (option === "memory") return { storage: new MemoryStorage(), isLocalStorage: false };
  return { storage: option, isLocalStorage: option === webStorage("localStorage") };
}
