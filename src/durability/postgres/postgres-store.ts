import pg from "pg";
import type { SubjectLoader } from "../../model/subject-state.ts";
import { createLedgerJournal, type LedgerJournal } from "./ledger-journal.ts";
import { createAwardJournal, type AwardJournal } from "./award-journal.ts";
import { runMigrations } from "./run-migrations.ts";
import { quoteSchemaName } from "./schema-name.ts";
import { createSnapshotWriter, type SnapshotWriter } from "./snapshot-writer.ts";
import { createSubjectLoader } from "./subject-loader.ts";

/**
 * The PostgreSQL side of durability in one object: a pool, the migrations (applied once, on first use),
 * the COPY snapshot writer, the restore loader and the ledger journal. Create it first, hand `loader`
 * to the backend (`createRedisBackend({ loader })`), then pass the store to `createDurability`.
 */

export interface PostgresStoreOptions {
  /** `postgres://user@host:port/db`. Ignored when `pool` is given. */
  readonly databaseUrl?: string;
  /** An existing pool to use instead (it is not closed by `close()`). */
  readonly pool?: pg.Pool;
  /** Schema holding the tables. Default `"progression"`. */
  readonly schema?: string;
  /** How long a new connection may take before the call fails (ms). Default 5000. */
  readonly connectTimeoutMs?: number;
  /** Connections of the pool created from `databaseUrl`. Default 4. */
  readonly poolSize?: number;
}

export interface PostgresStore {
  readonly pool: pg.Pool;
  readonly schema: string;
  /** Applies pending migrations (once per store; later calls share the first run). */
  migrate(): Promise<readonly number[]>;
  readonly writer: SnapshotWriter;
  /** Restore hook for a backend; waits for the migrations first. */
  readonly loader: SubjectLoader;
  readonly journal: LedgerJournal;
  /** Awards' receipts with their provenance (`explain`). */
  readonly awardJournal: AwardJournal;
  close(): Promise<void>;
}

export const POSTGRES_STORE_DEFAULTS = { schema: "progression", poolSize: 4, connectTimeoutMs: 5_000 } as const;

export function createPostgresStore(options: PostgresStoreOptions): PostgresStore {
  const schema = options.schema ?? POSTGRES_STORE_DEFAULTS.schema;
  quoteSchemaName(schema);
  const ownsPool = options.pool === undefined;
  const pool =
    options.pool ??
    new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? POSTGRES_STORE_DEFAULTS.poolSize,
      // A database that does not answer fails a call within this bound instead of hanging it.
      connectionTimeoutMillis: options.connectTimeoutMs ?? POSTGRES_STORE_DEFAULTS.connectTimeoutMs,
    });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  if (ownsPool) pool.on("error", () => undefined);

  let migrated: Promise<readonly number[]> | undefined;
  const migrate = (): Promise<readonly number[]> => {
    migrated ??= runMigrations(pool, schema).catch((error: unknown) => {
      migrated = undefined; // let a later call try again
      throw error;
    });
    return migrated;
  };
  const writer = createSnapshotWriter({ pool, schema });
  const load = createSubjectLoader({ pool, schema });
  const journal = createLedgerJournal({ pool, schema });
  const awardJournal = createAwardJournal({ pool, schema });

  return {
    pool,
    schema,
    migrate,
    writer: {
      async write(snapshots, takenAt) {
        await migrate();
        return writer.write(snapshots, takenAt);
      },
    },
    loader: async (subject) => {
      await migrate();
      return load(subject);
    },
    journal: {
      async append(entries) {
        await migrate();
        return journal.append(entries);
      },
      entriesOf: (envelope) => journal.entriesOf(envelope),
    },
    awardJournal: {
      async append(envelope) {
        await migrate();
        return awardJournal.append(envelope);
      },
      async provenance(subject, code) {
        await migrate();
        return awardJournal.provenance(subject, code);
      },
    },
    async close() {
      if (ownsPool) await pool.end();
    },
  };
}
