import { randomBytes } from "node:crypto";
import { ErrorCode } from "../../errors/error-codes.ts";
import { ProgressionError } from "../../errors/progression-error.ts";

/**
 * A hold id names its subject, so commit/release can find the subject's state (and, on Redis, its
 * cluster slot) from the id alone: `h` + 16 hex chars + `:` + subject.
 */
const NONCE_LENGTH = 16;
const PREFIX_LENGTH = 1 + NONCE_LENGTH + 1;

export function newHoldId(subject: string): string {
  return `h${randomBytes(NONCE_LENGTH / 2).toString("hex")}:${subject}`;
}

/** The subject of a hold id; throws HoldUnknown for anything that is not one. */
export function subjectOfHoldId(holdId: unknown): string {
  if (
    typeof holdId !== "string" ||
    holdId.length <= PREFIX_LENGTH ||
    holdId[0] !== "h" ||
    holdId[PREFIX_LENGTH - 1] !== ":" ||
    !/^[0-9a-f]+$/.test(holdId.slice(1, PREFIX_LENGTH - 1))
  ) {
    throw new ProgressionError(
      ErrorCode.HoldUnknown,
      `hold id ${JSON.stringify(holdId)} is not a hold id: pass the holdId returned by ledger.hold()`,
      { holdId },
    );
  }
  return holdId.slice(PREFIX_LENGTH);
}
