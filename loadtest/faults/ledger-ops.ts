/**
 * The operations the model-based ledger test sends: every public ledger call, with raw (possibly
 * invalid) arguments, plus moving the engine clock. Plain data, so a break prints the exact call.
 */
export type LedgerOp =
  | { readonly kind: "acquire" | "consume"; readonly subject: string; readonly item: string; readonly quantity: unknown; readonly key: string }
  | {
      readonly kind: "transfer";
      readonly from: string;
      readonly to: string;
      readonly item: string;
      readonly quantity: unknown;
      readonly key: string;
      readonly allowNewReceiver?: boolean;
    }
  | { readonly kind: "hold"; readonly subject: string; readonly item: string; readonly quantity: unknown; readonly ttlMs: unknown; readonly key: string }
  | { readonly kind: "commit" | "release" | "getHold"; readonly holdId: string }
  | { readonly kind: "balance"; readonly subject: string; readonly item: string }
  | { readonly kind: "list" | "holds"; readonly subject: string }
  | { readonly kind: "expireHolds"; readonly limit: number }
  | { readonly kind: "advance"; readonly ms: number };

export type KeyedOp = Extract<LedgerOp, { key: string }>;

export function isKeyed(op: LedgerOp): op is KeyedOp {
  return "key" in op;
}

/** The subject whose idempotency keys and lazy expiries an operation is about (undefined: global). */
export function primarySubject(op: LedgerOp): string | undefined {
  switch (op.kind) {
    case "transfer":
      return op.from;
    case "commit":
    case "release":
    case "getHold":
      return subjectOfHold(op.holdId);
    case "expireHolds":
    case "advance":
      return undefined;
    default:
      return op.subject;
  }
}

/** Every subject an operation reads or writes: operations in flight together touch disjoint sets. */
export function touchedSubjects(op: LedgerOp): readonly string[] | "all" {
  if (op.kind === "expireHolds" || op.kind === "advance") return "all";
  if (op.kind === "transfer") return [op.from, op.to];
  return [primarySubject(op) as string];
}

/** Hold ids are `h<16 hex>:<subject>` (src/backends/contract/hold-id.ts). */
export function subjectOfHold(holdId: string): string {
  return holdId.slice(holdId.indexOf(":") + 1);
}

/** What identifies "the same request" under one key. */
export function fingerprint(op: KeyedOp): string {
  const { key: _key, ...rest } = op;
  return JSON.stringify(rest, (_name, value: unknown) => (typeof value === "number" && !Number.isFinite(value) ? String(value) : value));
}

export function describeOp(op: LedgerOp): string {
  return JSON.stringify(op, (_name, value: unknown) => (typeof value === "number" && !Number.isFinite(value) ? String(value) : value));
}
