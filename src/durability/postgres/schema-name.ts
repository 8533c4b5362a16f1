import { ErrorCode } from "../../errors/error-codes.ts";
import { ProgressionError } from "../../errors/progression-error.ts";

/**
 * The PostgreSQL schema that holds the durability tables, validated once and quoted for SQL.
 * Only plain identifiers are accepted, so the quoted form can be spliced into statements safely.
 */
export function quoteSchemaName(schema: unknown): string {
  if (typeof schema !== "string" || !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
    throw new ProgressionError(
      ErrorCode.InvalidInput,
      `durability schema ${JSON.stringify(schema)} is not a plain SQL identifier: ` +
        "pass `schema` as letters, digits and underscores (at most 63, not starting with a digit), e.g. \"progression\"",
      { schema },
    );
  }
  return `"${schema}"`;
}
