import { ErrorCode } from "../errors/error-codes.ts";
import { ProgressionError } from "../errors/progression-error.ts";

/** A numeric option that must be positive; `undefined` takes the default. */
export function positiveOption(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new ProgressionError(
      ErrorCode.InvalidInput,
      `${name} must be a positive number of ${name.endsWith("Ms") ? "milliseconds" : "items"} (got ${String(value)}); omit it for the default ${fallback}`,
      { option: name, value },
    );
  }
  return value;
}

/** Like `positiveOption`, but 0 is allowed and means "off". */
export function positiveOrZeroOption(name: string, value: number | undefined, fallback: number): number {
  return value === 0 ? 0 : positiveOption(name, value, fallback);
}
