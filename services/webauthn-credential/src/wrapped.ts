import type { Response } from "express";

/**
 * A success answer in seed 003's wrapped format. `errors` is always present (`[]` on success):
 * the Node SDK types it on every response and its README tells users to check
 * `response.errors.length`, which throws on `undefined`.
 */
export function sendResult(res: Response, result: unknown, status = 200): void {
  res.status(status).json({ result, errors: [] });
}
