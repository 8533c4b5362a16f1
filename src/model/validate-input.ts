import { ErrorCode } from "../errors/error-codes.ts";
import { ProgressionError } from "../errors/progression-error.ts";
import type { GameplayEvent } from "./gameplay-event.ts";

/**
 * Boundary checks for every public call. Hand-written rather than schema-driven because `event`
 * validation sits on the hot path (hundreds of thousands per second); each failure names the field
 * and what would fix it.
 */

const IDENTIFIER = /^[A-Za-z0-9_.:-]{1,128}$/;
/** Keys that would reach Object.prototype if a tag map were ever copied into a plain object. */
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);
const MAX_TAGS = 32;
const MAX_TAG_VALUE = 256;
const MAX_KEY = 200;
const EMPTY_TAGS: Readonly<Record<string, string>> = Object.freeze(Object.create(null) as Record<string, string>);

function invalid(message: string, details: Record<string, unknown>): never {
  throw new ProgressionError(ErrorCode.InvalidInput, message, details);
}

/**
 * The one shape of a subject (player) id, everywhere: the engine, the ledger, the plugin's join and the
 * arena's trades. Letters, digits and `_ . : @ -`: no spaces, slashes or Redis hash-tag braces, so an id a
 * player can hold is an id a trade can name.
 */
export const SUBJECT_ID = /^[A-Za-z0-9_.:@-]{1,128}$/;

/**
 * Every public call that takes a subject checks it here. No cache of ids seen before (as identifiers
 * have): subjects are many, and the regex costs about 40 ns, against about 10 us per applied event.
 */
export function requireSubject(value: unknown, field = "subject"): string {
  if (typeof value !== "string" || !SUBJECT_ID.test(value)) {
    invalid(`${field} must be a subject id: 1-128 letters, digits, '_', '.', ':', '@' or '-' (got ${describe(value)})`, { field, value });
  }
  return value;
}

/** Identifiers seen valid before: event types and tag keys repeat, so the regex runs once per distinct value. */
const knownIdentifiers = new Set<string>();
const KNOWN_IDENTIFIERS_LIMIT = 10_000;

export function requireIdentifier(value: unknown, field: string): string {
  if (typeof value === "string" && knownIdentifiers.has(value)) return value;
  if (typeof value !== "string" || !IDENTIFIER.test(value)) {
    invalid(`${field} must be 1-128 characters of letters, digits, '_', '.', ':' or '-' (got ${describe(value)})`, { field, value });
  }
  if (knownIdentifiers.size < KNOWN_IDENTIFIERS_LIMIT && !FORBIDDEN_KEYS.has(value)) knownIdentifiers.add(value);
  return value;
}

export function requireQuantity(value: unknown, field = "quantity"): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
    throw new ProgressionError(
      ErrorCode.InvalidQuantity,
      `${field} must be a positive safe integer (1 to ${Number.MAX_SAFE_INTEGER}), got ${describe(value)}`,
      { field, value },
    );
  }
  return value;
}

export function requireKey(value: unknown, field = "idempotencyKey"): string {
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_KEY) {
    invalid(`${field} must be a non-empty string of at most ${MAX_KEY} characters, unique per intended mutation (got ${describe(value)})`, { field, value });
  }
  return value;
}

export function requireTime(value: unknown, field: string): number {
  const time = value instanceof Date ? value.getTime() : value;
  if (typeof time !== "number" || !Number.isSafeInteger(time) || time < 0) {
    invalid(`${field} must be a Date or epoch milliseconds (a non-negative integer), got ${describe(value)}`, { field, value });
  }
  return time;
}

export function requireDuration(value: unknown, field: string, maxMs: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0 || value > maxMs) {
    invalid(`${field} must be a whole number of milliseconds between 1 and ${maxMs} (got ${describe(value)})`, { field, value });
  }
  return value;
}

export function requireEventObject(event: unknown): asserts event is GameplayEvent {
  if (typeof event !== "object" || event === null) invalid(`event must be an object like { type, subject }, got ${describe(event)}`, { event });
}

export function requireEventId(id: unknown): string {
  if (typeof id !== "string" || id.length === 0 || id.length > MAX_KEY) {
    invalid(`event.id must be a non-empty string of at most ${MAX_KEY} characters (got ${describe(id)})`, { field: "event.id", value: id });
  }
  return id;
}

export const NO_TAGS = EMPTY_TAGS;

/**
 * Checks tags in place instead of copying them: the event is routed synchronously inside `add`, and
 * filters only compare own string values, so nothing reaches or trusts the prototype.
 */
export function requireTags(tags: unknown): Readonly<Record<string, string>> {
  if (typeof tags !== "object" || tags === null || Array.isArray(tags)) {
    invalid(`event.tags must be an object of string values, e.g. { creature: "skaven_warrior" } (got ${describe(tags)})`, { field: "event.tags" });
  }
  let count = 0;
  // JSON.parse creates an own "__proto__" key; reject it like any prototype key.
  for (const key in tags) {
    if (!Object.hasOwn(tags, key)) continue;
    count += 1;
    if (FORBIDDEN_KEYS.has(key) || (!knownIdentifiers.has(key) && !IDENTIFIER.test(key))) {
      invalid(`event.tags key ${JSON.stringify(key)} is not allowed: use letters, digits, '_', '.', ':' or '-' (and not __proto__/constructor/prototype)`, { field: "event.tags", key });
    }
    const value = (tags as Record<string, unknown>)[key];
    if (typeof value !== "string" || value.length > MAX_TAG_VALUE) {
      invalid(`event.tags.${key} must be a string of at most ${MAX_TAG_VALUE} characters (got ${describe(value)})`, { field: `event.tags.${key}` });
    }
  }
  if (count > MAX_TAGS) invalid(`event.tags has ${count} tags; at most ${MAX_TAGS} are allowed`, { field: "event.tags" });
  if (Object.getPrototypeOf(tags) !== Object.prototype && Object.getPrototypeOf(tags) !== null) {
    invalid("event.tags must be a plain object (not a class instance or a Map)", { field: "event.tags" });
  }
  return count === 0 ? EMPTY_TAGS : (tags as Readonly<Record<string, string>>);
}

export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}
