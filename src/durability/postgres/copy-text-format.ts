import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { PoolClient } from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { ErrorCode } from "../../errors/error-codes.ts";
import { ProgressionError } from "../../errors/progression-error.ts";

/**
 * Encoding for PostgreSQL's COPY text format: tab-separated fields, one row per line, `\N` for null.
 * Backslash, tab, newline and carriage return inside a text value are escaped; everything else
 * (including any Unicode) passes through as is.
 */

const NEEDS_ESCAPE = /[\\\t\n\r]/;

export function copyText(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/[\\\t\n\r]/g, (character) =>
    character === "\\" ? "\\\\" : character === "\t" ? "\\t" : character === "\n" ? "\\n" : "\\r",
  );
}

/** A safe integer column (bigint/integer); anything else would corrupt the row, so it is refused. */
export function copyInteger(value: number, column: string): string {
  if (!Number.isSafeInteger(value)) {
    throw new ProgressionError(
      ErrorCode.InvalidInput,
      `snapshot value for ${column} is ${String(value)}, not a safe integer: the backend exported a corrupt subject`,
      { column, value },
    );
  }
  return String(value);
}

export function copyNullableInteger(value: number | null | undefined, column: string): string {
  return value === null || value === undefined ? "\\N" : copyInteger(value, column);
}

/**
 * Rows (or blocks of rows joined by newlines) are gathered into ~64 KB chunks so the stream moves
 * large writes instead of one tiny write per row; string concatenation is cheap in V8 (ropes).
 */
const CHUNK_CHARS = 64 * 1024;

function* chunked(rows: Iterable<string>): Generator<string> {
  let chunk = "";
  for (const row of rows) {
    if (row.length === 0) continue;
    chunk += row + "\n";
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = "";
    }
  }
  if (chunk.length > 0) yield chunk;
}

/**
 * Streams `rows` (already encoded, without the trailing newline; an element may hold several rows
 * joined by newlines, an empty one is skipped) into `COPY <target> FROM STDIN`.
 */
export async function copyRowsInto(client: PoolClient, target: string, rows: Iterable<string>): Promise<void> {
  const stream = client.query(copyFrom(`COPY ${target} FROM STDIN`));
  await pipeline(Readable.from(chunked(rows)), stream);
}
