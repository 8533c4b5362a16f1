import { createHash } from "node:crypto";

/**
 * Counter ids name state in the store for every subject, so they must be stable across restarts and
 * processes (derived from content, not load order) and short (Redis memory per subject). 8 base-64url
 * chars of SHA-256 = 48 bits; collisions are detected at plan build and reported.
 */
export function counterIdFor(descriptor: string): string {
  return createHash("sha256").update(descriptor).digest("base64url").slice(0, 8);
}
