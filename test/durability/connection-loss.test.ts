import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkOut } from "../../src/durability/postgres/checked-out-client.ts";
import { openSuiteDatabase, type SuiteDatabase } from "./durability-fixtures.ts";

/**
 * PostgreSQL dropping a connection while durability holds it for a transaction (a restart, a network
 * cut: the fault suite's "PostgreSQL cut") must fail that write, never the process: a checked-out pg
 * client the pool does not listen to turns the drop into an uncaught 'error' (vitest fails the run on one).
 */
let database: SuiteDatabase;

beforeAll(async () => {
  database = await openSuiteDatabase();
});

afterAll(async () => {
  await database.close();
});

describe("a connection dropped under a checked-out client", () => {
  it("is an error of that client only: released as broken, and the pool lends a working one next", async () => {
    const { client, release } = await checkOut(database.pool);
    const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
    const pid = rows[0]?.pid;
    const ended = new Promise<void>((resolve) => client.once("end", () => resolve()));
    // Dropped by the server while the client sits idle between two statements of a transaction.
    await database.pool.query("SELECT pg_terminate_backend($1)", [pid]);
    await ended;
    try {
      await expect(client.query("SELECT 1")).rejects.toThrow();
    } finally {
      release();
    }
    const next = await database.pool.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
    expect(next.rows[0]?.pid).not.toBe(pid);
  });
});
