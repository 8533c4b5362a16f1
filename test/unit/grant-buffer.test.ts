import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import { ProgressionError } from "../../src/errors/progression-error.ts";
import { GrantBuffer } from "../../src/runtime/grant-buffer.ts";
import type { PendingGrant } from "../../src/runtime/grant-buffer.ts";

/** The drained grants without their keys (checked on their own), in drain order. */
function withoutKeys(grants: readonly PendingGrant[]): [string, string, number][] {
  return grants.map((g) => [g.subject, g.item, g.quantity]);
}

/** Calls `add` and returns the ProgressionError it throws (failing the test if it throws anything else or nothing). */
function rejection(buffer: GrantBuffer, subject: unknown, item: unknown, quantity: unknown): ProgressionError {
  try {
    buffer.add(subject as string, item as string, quantity as number);
  } catch (error) {
    if (error instanceof ProgressionError) return error;
    throw error;
  }
  throw new Error(`add(${String(subject)}, ${String(item)}, ${String(quantity)}) did not throw`);
}

describe("GrantBuffer: coalescing", () => {
  it("coalesces grants per (subject, item) and counts distinct pairs", () => {
    const buffer = new GrantBuffer();
    expect(buffer.pendingGrants).toBe(0);
    buffer.add("alice", "gold", 5);
    buffer.add("alice", "gold", 7);
    expect(buffer.pendingGrants).toBe(1);
    buffer.add("alice", "gem", 1);
    buffer.add("bob", "gold", 2);
    buffer.add("alice", "gold", 30);
    expect(buffer.pendingGrants).toBe(3);
    expect(withoutKeys(buffer.drain())).toStrictEqual([
      ["alice", "gold", 42],
      ["alice", "gem", 1],
      ["bob", "gold", 2],
    ]);
  });

  it("drain() takes every grant out and leaves the buffer empty", () => {
    const buffer = new GrantBuffer();
    buffer.add("alice", "gold", 5);
    buffer.add("bob", "gem", 3);
    expect([buffer.has("alice"), buffer.has("bob")]).toStrictEqual([true, true]);
    expect(buffer.drain()).toHaveLength(2);
    expect(buffer.pendingGrants).toBe(0);
    expect([buffer.has("alice"), buffer.has("bob")]).toStrictEqual([false, false]);
    expect(buffer.drain()).toStrictEqual([]);
    // A grant after a drain starts from zero, not from the drained total.
    buffer.add("alice", "gold", 1);
    expect(withoutKeys(buffer.drain())).toStrictEqual([["alice", "gold", 1]]);
  });

  it("drain(subject) takes only that subject's grants", () => {
    const buffer = new GrantBuffer();
    buffer.add("alice", "gold", 5);
    buffer.add("bob", "gold", 2);
    buffer.add("alice", "gem", 1);
    buffer.add("carol", "gem", 4);
    expect(withoutKeys(buffer.drain("alice"))).toStrictEqual([
      ["alice", "gold", 5],
      ["alice", "gem", 1],
    ]);
    expect(buffer.pendingGrants).toBe(2);
    expect([buffer.has("alice"), buffer.has("bob"), buffer.has("carol")]).toStrictEqual([false, true, true]);
    expect(withoutKeys(buffer.drain())).toStrictEqual([
      ["bob", "gold", 2],
      ["carol", "gem", 4],
    ]);
  });

  it("drain(subject) of a subject with nothing pending returns nothing and changes nothing", () => {
    const buffer = new GrantBuffer();
    buffer.add("bob", "gold", 2);
    expect(buffer.drain("alice")).toStrictEqual([]);
    expect(buffer.pendingGrants).toBe(1);
    expect(withoutKeys(buffer.drain())).toStrictEqual([["bob", "gold", 2]]);
  });
});

describe("GrantBuffer: idempotency keys", () => {
  it("gives every drained grant a key unique per drain and item", () => {
    const buffer = new GrantBuffer();
    const drained: PendingGrant[] = [];
    for (let round = 0; round < 3; round += 1) {
      buffer.add("alice", "gold", 1);
      buffer.add("alice", "gem", 1);
      buffer.add("bob", "gold", 1);
      drained.push(...buffer.drain("alice"), ...buffer.drain());
    }
    expect(drained).toHaveLength(9);
    for (const grant of drained) expect(grant.idempotencyKey).toMatch(/^grant:.+:(gold|gem)$/);
    // The ledger scopes keys by subject: within a subject no two grants (of any drain) may share one,
    // or a later grant would be dropped as a retry of an earlier one.
    expect(new Set(drained.map((g) => `${g.subject}\u0000${g.idempotencyKey}`)).size).toBe(9);
    const alice = drained.filter((g) => g.subject === "alice").map((g) => g.idempotencyKey);
    expect(new Set(alice).size).toBe(6);
  });
});

describe("GrantBuffer: validation", () => {
  it.each<[string, unknown, unknown, unknown, string]>([
    ["an empty subject", "", "gold", 1, ErrorCode.InvalidInput],
    ["a 201-character subject", "s".repeat(201), "gold", 1, ErrorCode.InvalidInput],
    ["a numeric subject", 7, "gold", 1, ErrorCode.InvalidInput],
    ["an undefined subject", undefined, "gold", 1, ErrorCode.InvalidInput],
    ["an empty item", "alice", "", 1, ErrorCode.InvalidInput],
    ["an item with a space", "alice", "gold bar", 1, ErrorCode.InvalidInput],
    ["a 129-character item", "alice", "i".repeat(129), 1, ErrorCode.InvalidInput],
    ["a numeric item", "alice", 3, 1, ErrorCode.InvalidInput],
    ["quantity 0", "alice", "gold", 0, ErrorCode.InvalidQuantity],
    ["a negative quantity", "alice", "gold", -5, ErrorCode.InvalidQuantity],
    ["a fractional quantity", "alice", "gold", 2.5, ErrorCode.InvalidQuantity],
    ["a NaN quantity", "alice", "gold", Number.NaN, ErrorCode.InvalidQuantity],
    ["an infinite quantity", "alice", "gold", Number.POSITIVE_INFINITY, ErrorCode.InvalidQuantity],
    ["an unsafe quantity", "alice", "gold", Number.MAX_SAFE_INTEGER + 1, ErrorCode.InvalidQuantity],
    ["a string quantity", "alice", "gold", "5", ErrorCode.InvalidQuantity],
  ])("rejects %s with a typed error and changes nothing", (_name, subject, item, quantity, code) => {
    const buffer = new GrantBuffer();
    buffer.add("bob", "gold", 2);
    expect(rejection(buffer, subject, item, quantity).code).toBe(code);
    expect(buffer.pendingGrants).toBe(1);
    // No empty entry left behind for the rejected subject.
    expect([buffer.has("alice"), buffer.has("")]).toStrictEqual([false, false]);
    expect(withoutKeys(buffer.drain())).toStrictEqual([["bob", "gold", 2]]);
  });

  it("accepts a sum of exactly MAX_SAFE_INTEGER", () => {
    const buffer = new GrantBuffer();
    buffer.add("alice", "gold", Number.MAX_SAFE_INTEGER - 1);
    buffer.add("alice", "gold", 1);
    expect(withoutKeys(buffer.drain())).toStrictEqual([["alice", "gold", Number.MAX_SAFE_INTEGER]]);
  });

  it("rejects a grant whose sum would pass MAX_SAFE_INTEGER and keeps the earlier total", () => {
    const buffer = new GrantBuffer();
    buffer.add("alice", "gold", Number.MAX_SAFE_INTEGER - 1);
    buffer.add("alice", "gem", 3);
    expect(rejection(buffer, "alice", "gold", 2).code).toBe(ErrorCode.InvalidQuantity);
    expect(buffer.pendingGrants).toBe(2);
    // Other items of the subject still take grants.
    buffer.add("alice", "gem", 1);
    expect(withoutKeys(buffer.drain())).toStrictEqual([
      ["alice", "gold", Number.MAX_SAFE_INTEGER - 1],
      ["alice", "gem", 4],
    ]);
  });
});
