import { ErrorCode } from "../../errors/error-codes.ts";
import { ProgressionError } from "../../errors/progression-error.ts";

/**
 * Cheap checks at the backend boundary: the engine validates first, but nothing malformed may reach
 * a script (a script refuses too, yet its message can only be generic).
 */

const MAX_TEXT = 1024;

export function requireText(value: unknown, name: string, maxLength = MAX_TEXT): string {
  if (typeof value !== "string" || value.length === 0 || value.length > maxLength) {
    throw new ProgressionError(
      ErrorCode.InvalidInput,
      `${name} must be a non-empty string of at most ${maxLength} characters, got ${JSON.stringify(value)}`,
      { [name]: value },
    );
  }
  return value;
}

export function requireQuantity(value: unknown, name = "quantity"): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
    throw new ProgressionError(ErrorCode.InvalidQuantity, `${name} must be a positive safe integer, got ${String(value)}`, {
      [name]: value,
    });
  }
  return value;
}

export function requireTime(value: unknown, name = "now"): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new ProgressionError(ErrorCode.InvalidInput, `${name} must be an integer epoch time in ms, got ${String(value)}`, {
      [name]: value,
    });
  }
  return value;
}

export function requirePositiveInteger(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
    throw new ProgressionError(ErrorCode.InvalidInput, `${name} must be a positive integer, got ${String(value)}`, {
      [name]: value,
    });
  }
  return value;
}
