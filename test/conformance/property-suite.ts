import fc from "fast-check";
import { expect, it } from "vitest";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import { isProgressionError } from "../../src/errors/progression-error.ts";
import type { BackendFactory } from "../support/backend-factories.ts";
import { DAY, milestone, T0, useEngines } from "./engine-fixture.ts";

const SUBJECTS = ["a", "b", "c"] as const;
const ITEMS = ["gold", "gem"] as const;
const KEYS = ["k1", "k2", "k3", "k4", "k5", "k6"] as const;

type LedgerOp =
  | { op: "acquire" | "consume"; subject: string; item: string; quantity: number; key: string }
  | { op: "transfer"; from: string; to: string; item: string; quantity: number; key: string }
  | { op: "hold"; subject: string; item: string; quantity: number; ttlMs: number; key: string }
  | { op: "commit" | "release"; index: number }
  | { op: "advance"; ms: number };

const subject = fc.constantFrom(...SUBJECTS);
const item = fc.constantFrom(...ITEMS);
const key = fc.constantFrom(...KEYS);
const quantity = fc.integer({ min: 1, max: 20 });
const ledgerOp: fc.Arbitrary<LedgerOp> = fc.oneof(
  fc.record({ op: fc.constantFrom("acquire" as const, "consume" as const), subject, item, quantity, key }),
  fc.record({ op: fc.constant("transfer" as const), from: subject, to: subject, item, quantity, key }).filter((o) => o.from !== o.to),
  fc.record({ op: fc.constant("hold" as const), subject, item, quantity, ttlMs: fc.integer({ min: 1, max: 5000 }), key }),
  fc.record({ op: fc.constantFrom("commit" as const, "release" as const), index: fc.nat(9) }),
  fc.record({ op: fc.constant("advance" as const), ms: fc.integer({ min: 1, max: 3000 }) }),
);

interface ModelHold {
  holdId: string;
  subject: string;
  item: string;
  quantity: number;
  expiresAt: number;
  state: "held" | "committed" | "released" | "expired";
}

/** Random operation sequences against a plain model of the ledger, plus counters against a model. */
export function propertyConformance(factory: BackendFactory): void {
  const engine = useEngines(factory);

  it("the ledger matches a simple model: no negative balance, conserved totals, replays change nothing, expired holds return", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(ledgerOp, { minLength: 15, maxLength: 50 }), async (ops) => {
        const { progression, clock } = await engine([]);
        const ledger = progression.ledger;
        const free = new Map<string, number>();
        const held = new Map<string, number>();
        const keys = new Map<string, string>(); // subject:key -> fingerprint of the successful request
        const holds: ModelHold[] = [];
        const get = (m: Map<string, number>, s: string, i: string) => m.get(`${s}/${i}`) ?? 0;
        const add = (m: Map<string, number>, s: string, i: string, q: number) => m.set(`${s}/${i}`, get(m, s, i) + q);
        let created = 0;
        let destroyed = 0;
        // Start with stock everywhere so debits and holds mostly succeed and the interesting paths run.
        for (const s of SUBJECTS) {
          for (const i of ITEMS) {
            await ledger.acquire({ subject: s, item: i, quantity: 30, idempotencyKey: `seed-${i}` });
            add(free, s, i, 30);
            created += 30;
          }
        }
        const expireDue = () => {
          for (const hold of holds) {
            if (hold.state === "held" && hold.expiresAt <= clock.now) {
              hold.state = "expired";
              add(held, hold.subject, hold.item, -hold.quantity);
              add(free, hold.subject, hold.item, hold.quantity);
            }
          }
        };

        for (const op of ops) {
          expireDue();
          if (op.op === "advance") {
            clock.advance(op.ms);
            continue;
          }
          if (op.op === "commit" || op.op === "release") {
            const hold = holds[op.index % Math.max(holds.length, 1)];
            if (hold === undefined) continue;
            const outcome = await (op.op === "commit" ? ledger.commit(hold.holdId) : ledger.release(hold.holdId)).then(
              (receipt) => receipt,
              (error: unknown) => error,
            );
            const target = op.op === "commit" ? "committed" : "released";
            if (hold.state === "held") {
              expect(outcome).toMatchObject({ replayed: false, hold: { state: target } });
              hold.state = target;
              add(held, hold.subject, hold.item, -hold.quantity);
              if (target === "released") add(free, hold.subject, hold.item, hold.quantity);
              else destroyed += hold.quantity;
            } else if (hold.state === target || (target === "released" && hold.state === "expired")) {
              expect(outcome).toMatchObject({ replayed: true });
            } else {
              expect(isProgressionError(outcome)).toBe(true);
              expect((outcome as { code: string }).code).toBe(hold.state === "expired" ? ErrorCode.HoldExpired : ErrorCode.HoldClosed);
            }
            continue;
          }
          // Only keyed mutations are left here.
          const kop = op as Extract<LedgerOp, { key: string }>;
          const owner = kop.op === "transfer" ? kop.from : kop.subject;
          const fingerprint = JSON.stringify({ ...kop, key: undefined });
          const scoped = `${owner}:${kop.key}`;
          const previous = keys.get(scoped);
          const call = () => {
            switch (kop.op) {
              case "acquire":
                return ledger.acquire({ subject: kop.subject, item: kop.item, quantity: kop.quantity, idempotencyKey: kop.key });
              case "consume":
                return ledger.consume({ subject: kop.subject, item: kop.item, quantity: kop.quantity, idempotencyKey: kop.key });
              case "transfer":
                return ledger.transfer({ from: kop.from, to: kop.to, item: kop.item, quantity: kop.quantity, idempotencyKey: kop.key });
              case "hold":
                return ledger.hold({ subject: kop.subject, item: kop.item, quantity: kop.quantity, ttlMs: kop.ttlMs, idempotencyKey: kop.key });
            }
          };
          const outcome = await call().then((receipt) => receipt, (error: unknown) => error);
          if (previous !== undefined) {
            if (previous === fingerprint) expect(outcome).toMatchObject({ replayed: true });
            else expect(outcome).toMatchObject({ code: ErrorCode.IdempotencyConflict });
            continue;
          }
          const available = get(free, owner, kop.item);
          if (kop.op !== "acquire" && available < kop.quantity) {
            expect(outcome).toMatchObject({ code: ErrorCode.Insufficient });
            continue;
          }
          expect(outcome).toMatchObject({ replayed: false });
          keys.set(scoped, fingerprint);
          if (kop.op === "acquire") {
            add(free, kop.subject, kop.item, kop.quantity);
            created += kop.quantity;
          } else if (kop.op === "consume") {
            add(free, kop.subject, kop.item, -kop.quantity);
            destroyed += kop.quantity;
          } else if (kop.op === "transfer") {
            add(free, kop.from, kop.item, -kop.quantity);
            add(free, kop.to, kop.item, kop.quantity);
          } else if (kop.op === "hold") {
            add(free, kop.subject, kop.item, -kop.quantity);
            add(held, kop.subject, kop.item, kop.quantity);
            const { hold } = outcome as { hold: { holdId: string; expiresAt: number } };
            expect(hold.expiresAt).toBe(clock.now + kop.ttlMs);
            holds.push({ holdId: hold.holdId, subject: kop.subject, item: kop.item, quantity: kop.quantity, expiresAt: hold.expiresAt, state: "held" });
          }
        }

        expireDue();
        let total = 0;
        for (const s of SUBJECTS) {
          for (const i of ITEMS) {
            const balance = await ledger.balance(s, i);
            expect(balance).toEqual({ subject: s, item: i, free: get(free, s, i), held: get(held, s, i) });
            expect(balance.free).toBeGreaterThanOrEqual(0);
            expect(balance.held).toBeGreaterThanOrEqual(0);
            total += balance.free + balance.held;
          }
        }
        expect(total).toBe(created - destroyed);
      }),
      { numRuns: 25 },
    );
  });

  it("counters, daily days and awards match a model for random event sequences", async () => {
    const event = fc.record({
      subject: fc.constantFrom("a", "b"),
      type: fc.constantFrom("kill", "loot"),
      amount: fc.integer({ min: 1, max: 5 }),
      creature: fc.constantFrom("rat", "skaven"),
      day: fc.integer({ min: 0, max: 6 }),
      second: fc.integer({ min: 0, max: 86_399 }),
      chunk: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(event, { minLength: 1, maxLength: 60 }), async (events) => {
        const definitions = [
          milestone("kills_5", "kill", { type: "count", threshold: 5 }),
          milestone("kills_20", "kill", { type: "count", threshold: 20 }),
          milestone("skaven_8", "kill", { type: "count", threshold: 8, where: { creature: "skaven" } }),
          milestone("loot_days_3", "loot", { type: "daily", days: 3 }),
        ];
        const { progression } = await engine(definitions);
        let batch: Parameters<typeof progression.recordBatch>[0] = [];
        const awarded = new Map<string, number>();
        const flush = async () => {
          for (const unlock of await progression.recordBatch(batch)) awarded.set(`${unlock.subject}:${unlock.code}`, (awarded.get(`${unlock.subject}:${unlock.code}`) ?? 0) + 1);
          batch = [];
        };
        for (const e of events) {
          batch = [...batch, { type: e.type, subject: e.subject, amount: e.amount, tags: { creature: e.creature }, at: T0 + e.day * DAY + e.second * 1000 }];
          if (e.chunk) await flush();
        }
        await flush();
        for (const s of ["a", "b"]) {
          const mine = events.filter((e) => e.subject === s);
          const kills = mine.filter((e) => e.type === "kill").reduce((sum, e) => sum + e.amount, 0);
          const skaven = mine.filter((e) => e.type === "kill" && e.creature === "skaven").reduce((sum, e) => sum + e.amount, 0);
          const lootDays = new Set(mine.filter((e) => e.type === "loot").map((e) => Math.floor((T0 + e.day * DAY + e.second * 1000) / DAY))).size;
          const progress = new Map((await progression.progress(s)).map((p) => [p.code, p]));
          expect(progress.get("kills_5")?.current).toBe(Math.max(kills, kills >= 5 ? 5 : 0));
          expect(progress.get("skaven_8")?.current).toBe(Math.max(skaven, skaven >= 8 ? 8 : 0));
          expect(progress.get("loot_days_3")?.current).toBe(Math.max(lootDays, lootDays >= 3 ? 3 : 0));
          const expected = { kills_5: kills >= 5, kills_20: kills >= 20, skaven_8: skaven >= 8, loot_days_3: lootDays >= 3 };
          for (const [code, reached] of Object.entries(expected)) {
            expect(progress.get(code)?.status, `${s}:${code}`).toBe(reached ? "completed" : "in_progress");
            expect(awarded.get(`${s}:${code}`) ?? 0, `${s}:${code} awarded once`).toBe(reached ? 1 : 0);
          }
        }
      }),
      { numRuns: 25 },
    );
  });
}
