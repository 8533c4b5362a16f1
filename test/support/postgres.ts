import { randomBytes } from "node:crypto";
import pg from "pg";

/**
 * A throwaway PostgreSQL database per test run (or suite): created on `DATABASE_URL`
 * (default `postgres://postgres@127.0.0.1:5432/test`) with a random name, dropped by `drop()`.
 *
 *   const db = await createTestDatabase();
 *   const pool = new pg.Pool({ connectionString: db.url });
 *   ...
 *   await pool.end(); await db.drop();
 */
export const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test";

export interface TestDatabase {
  /** Connection string of the new database. */
  readonly url: string;
  readonly name: string;
  /** Drops the database (terminating leftover connections to it). */
  drop(): Promise<void>;
}

export async function createTestDatabase(baseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL): Promise<TestDatabase> {
  const name = `progression_test_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      const client = new pg.Client({ connectionString: baseUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
