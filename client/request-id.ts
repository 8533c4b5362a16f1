/**
 * A random request id (a UUID v4) for a claim, so a retried claim is recognised as the same one. Uses the
 * Web Crypto global; `crypto.randomUUID` exists only in secure contexts (https, localhost), so pages served
 * over plain http fall back to `crypto.getRandomValues`, which every browser has.
 */
export function newRequestId(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
