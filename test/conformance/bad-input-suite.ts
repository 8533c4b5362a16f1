import { expect, it } from "vitest";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import type { GameplayEvent } from "../../src/model/gameplay-event.ts";
import type { BackendFactory } from "../support/backend-factories.ts";
import { milestone, useEngines } from "./engine-fixture.ts";

const badAmounts: unknown[] = [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, "3", null];

/** Every public call with bad input: a typed error that says what to fix, and no state change. */
export function badInputConformance(factory: BackendFactory): void {
  const engine = useEngines(factory);
  const setup = async () => {
    const fixture = await engine([milestone("first_blood", "kill", { type: "count", threshold: 2 }, { rewards: [{ item: "gold", quantity: 1 }] })]);
    const { progression } = fixture;
    await progression.record({ type: "kill", subject: "p1" });
    await progression.ledger.acquire({ subject: "p1", item: "gold", quantity: 10, idempotencyKey: "seed" });
    const snapshot = async () => JSON.stringify([await progression.progress("p1"), await progression.ledger.list("p1"), await progression.ledger.list("p2")]);
    return { ...fixture, before: await snapshot(), snapshot };
  };

  it("rejects bad events and keeps nothing of their batch", async () => {
    const { progression, before, snapshot } = await setup();
    const bad: unknown[] = [
      ...badAmounts.map((amount) => ({ type: "kill", subject: "p1", amount })),
      { type: "kill", subject: "" },
      { type: "kill", subject: 42 },
      { type: "", subject: "p1" },
      { type: "kill spaces", subject: "p1" },
      { type: "kill", subject: "p1", tags: { creature: 5 } },
      { type: "kill", subject: "p1", tags: JSON.parse('{"__proto__": "x"}') },
      { type: "kill", subject: "p1", tags: { constructor: "x" } },
      { type: "kill", subject: "p1", tags: ["a"] },
      { type: "kill", subject: "p1", at: "yesterday" },
      { type: "kill", subject: "p1", id: 7 },
      null,
    ];
    for (const event of bad) {
      const error = await progression.recordBatch([{ type: "kill", subject: "p1" }, event as GameplayEvent]).then(() => null, (e: unknown) => e);
      expect(error, JSON.stringify(event)).toMatchObject({ name: "ProgressionError" });
      expect([ErrorCode.InvalidInput, ErrorCode.InvalidQuantity]).toContain((error as { code: string }).code);
      expect((error as Error).message.length).toBeGreaterThan(20);
    }
    expect(await snapshot()).toBe(before);
    const amountError = await progression.record({ type: "kill", subject: "p1", amount: -3 }).catch((e: unknown) => e);
    expect(amountError).toMatchObject({ code: ErrorCode.InvalidQuantity, message: expect.stringContaining("event.amount must be a positive safe integer") });
  });

  it("rejects bad ledger calls with the field named, changing nothing", async () => {
    const { progression, before, snapshot } = await setup();
    const ledger = progression.ledger;
    for (const quantity of badAmounts) {
      await expect(ledger.acquire({ subject: "p1", item: "gold", quantity: quantity as number, idempotencyKey: `q${String(quantity)}` })).rejects.toMatchObject({ code: ErrorCode.InvalidQuantity });
      await expect(ledger.consume({ subject: "p1", item: "gold", quantity: quantity as number, idempotencyKey: "c" })).rejects.toMatchObject({ code: ErrorCode.InvalidQuantity });
      await expect(ledger.transfer({ from: "p1", to: "p2", item: "gold", quantity: quantity as number, idempotencyKey: "t" })).rejects.toMatchObject({ code: ErrorCode.InvalidQuantity });
      await expect(ledger.hold({ subject: "p1", item: "gold", quantity: quantity as number, ttlMs: 1000, idempotencyKey: "h" })).rejects.toMatchObject({ code: ErrorCode.InvalidQuantity });
    }
    await expect(ledger.acquire({ subject: "p1", item: "", quantity: 1, idempotencyKey: "k" })).rejects.toMatchObject({ code: ErrorCode.InvalidInput, message: expect.stringContaining("item") });
    await expect(ledger.acquire({ subject: "p1", item: "gold", quantity: 1, idempotencyKey: "" })).rejects.toMatchObject({ code: ErrorCode.InvalidInput, message: expect.stringContaining("idempotencyKey") });
    await expect(ledger.hold({ subject: "p1", item: "gold", quantity: 1, ttlMs: 0, idempotencyKey: "h" })).rejects.toMatchObject({ code: ErrorCode.InvalidInput, message: expect.stringContaining("ttlMs") });
    await expect(ledger.hold({ subject: "p1", item: "gold", quantity: 1, ttlMs: 1e12, idempotencyKey: "h" })).rejects.toMatchObject({ code: ErrorCode.InvalidInput });
    await expect(ledger.commit(42 as unknown as string)).rejects.toMatchObject({ code: ErrorCode.HoldUnknown });
    expect(await snapshot()).toBe(before);
  });

  it("rejects unknown milestones and bad subjects in reads and claims", async () => {
    const { progression, before, snapshot } = await setup();
    await expect(progression.claim("p1", "no_such", "k")).rejects.toMatchObject({ code: ErrorCode.UnknownMilestone });
    await expect(progression.claim("", "first_blood", "k")).rejects.toMatchObject({ code: ErrorCode.InvalidInput });
    await expect(progression.claim("p1", "first_blood", "")).rejects.toMatchObject({ code: ErrorCode.InvalidInput });
    await expect(progression.progress(undefined as unknown as string)).rejects.toMatchObject({ code: ErrorCode.InvalidInput });
    await expect(progression.catchUp("p1", { at: -5 })).rejects.toMatchObject({ code: ErrorCode.InvalidInput });
    expect(await snapshot()).toBe(before);
  });
}
