import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import { isProgressionError } from "../../src/errors/progression-error.ts";
import { parseLoadtestOptions } from "../../loadtest/runner/loadtest-options.ts";

/** `--database-url`: the started arena snapshots into PostgreSQL and the report gives the archive's lag. */
describe("parseLoadtestOptions --database-url", () => {
  it("is off by default and reads a loopback PostgreSQL URL", () => {
    expect(parseLoadtestOptions([]).databaseUrl).toBeUndefined();
    expect(parseLoadtestOptions(["--database-url", "postgres://postgres@127.0.0.1:5432/loadtest"]).databaseUrl).toBe("postgres://postgres@127.0.0.1:5432/loadtest");
    expect(parseLoadtestOptions(["--database-url", "postgresql://localhost/lt_1"]).databaseUrl).toBe("postgresql://localhost/lt_1");
  });

  it.each([
    [["--database-url", "postgres://postgres@10.0.0.5:5432/prod"], /--database-url must be a loopback PostgreSQL URL/],
    [["--database-url", "postgres://127.0.0.1:5432"], /--database-url must be a loopback PostgreSQL URL/],
    [["--database-url", "postgres://127.0.0.1/lt", "--endpoint", "ws://127.0.0.1:2567"], /leave out --endpoint and --room bare/],
    [["--database-url", "postgres://127.0.0.1/lt", "--room", "bare"], /leave out --endpoint and --room bare/],
  ])("rejects %j with a message naming the option", (argv, message) => {
    let caught: unknown;
    try {
      parseLoadtestOptions(argv);
    } catch (error) {
      caught = error;
    }
    expect(isProgressionError(caught, ErrorCode.InvalidInput)).toBe(true);
    expect((caught as Error).message).toMatch(message);
  });
});
