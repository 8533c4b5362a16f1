import pg from "pg";
import { describe, expect, it } from "vitest";
import { createTestDatabase } from "../support/postgres.ts";

describe("test harness: throwaway PostgreSQL database", () => {
  it("creates a usable database and drops it", async () => {
    const db = await createTestDatabase();
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query<{ name: string }>("SELECT current_database() AS name");
    await client.end();
    expect(rows[0]?.name).toBe(db.name);

    await db.drop();
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test" });
    await admin.connect();
    const left = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [db.name]);
    await admin.end();
    expect(left.rowCount).toBe(0);
  });
});
