import { readdir, readFile } from "node:fs/promises";
import type { Pool } from "pg";
import { quoteSchemaName } from "./schema-name.ts";
import { checkOut } from "./checked-out-client.ts";

/**
 * Applies the versioned SQL files of `migrations/` (`NNN_name.sql`, in order) that the schema has not
 * seen yet, each in its own transaction, recording them in `<schema>.migrations`. Idempotent, and safe
 * when several servers start at once: an advisory lock per schema serialises the runners.
 */

const MIGRATIONS_DIRECTORY = new URL("./migrations/", import.meta.url);
const MIGRATION_FILE = /^(\d+)_([a-z0-9_]+)\.sql$/;

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export async function loadMigrations(): Promise<readonly Migration[]> {
  const files = (await readdir(MIGRATIONS_DIRECTORY)).filter((file) => MIGRATION_FILE.test(file)).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = MIGRATION_FILE.exec(file);
    if (match?.[1] === undefined || match[2] === undefined) continue;
    migrations.push({
      version: Number(match[1]),
      name: match[2],
      sql: await readFile(new URL(file, MIGRATIONS_DIRECTORY), "utf8"),
    });
  }
  return migrations;
}

/** Returns the versions it applied now (empty when the schema was already up to date). */
export async function runMigrations(pool: Pool, schema: string): Promise<readonly number[]> {
  const quoted = quoteSchemaName(schema);
  const migrations = await loadMigrations();
  const { client, release } = await checkOut(pool);
  const applied: number[] = [];
  try {
    // Session-level lock: held across the per-migration transactions below.
    await client.query("SELECT pg_advisory_lock(hashtext($1))", [`colyseus-progression:migrations:${schema}`]);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${quoted}.migrations (
           version    integer     PRIMARY KEY,
           name       text        NOT NULL,
           applied_at timestamptz NOT NULL DEFAULT now()
         )`,
      );
      const done = await client.query<{ version: number }>(`SELECT version FROM ${quoted}.migrations`);
      const seen = new Set(done.rows.map((row) => row.version));
      for (const migration of migrations) {
        if (seen.has(migration.version)) continue;
        await client.query("BEGIN");
        try {
          await client.query(migration.sql.replaceAll("__SCHEMA__", quoted));
          await client.query(`INSERT INTO ${quoted}.migrations (version, name) VALUES ($1, $2)`, [
            migration.version,
            migration.name,
          ]);
          await client.query("COMMIT");
        } catch (error) {
          await client.query("ROLLBACK");
          throw error;
        }
        applied.push(migration.version);
      }
    } finally {
      await client.query("SELECT pg_advisory_unlock(hashtext($1))", [`colyseus-progression:migrations:${schema}`]);
    }
  } finally {
    release();
  }
  return applied;
}
