import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createDurability } from "../../src/durability/create-durability.ts";
import { createPostgresStore } from "../../src/durability/postgres/postgres-store.ts";
import { createProgression } from "../../src/engine/create-progression.ts";
import { createRedisBackend } from "../../src/backends/redis/create-redis-backend.ts";
import { deleteKeysWithPrefix, randomPrefix, testRedisUrl } from "../support/redis-prefix.ts";
import { openSuiteDatabase, type SuiteDatabase } from "./durability-fixtures.ts";

let database: SuiteDatabase;
let redis: Redis;
const storePrefix = randomPrefix("restore");
const bullPrefix = randomPrefix("restore-bull");

beforeAll(async () => {
  database = await openSuiteDatabase();
  redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  await deleteKeysWithPrefix(redis, storePrefix);
  await deleteKeysWithPrefix(redis, bullPrefix);
  redis.disconnect();
  await database.close();
});

it("restores subjects from PostgreSQL after their Redis keys are deleted mid-run: counting resumes, no award twice", async () => {
  const durability = createDurability({
    redis: testRedisUrl(),
    store: createPostgresStore({ pool: database.pool, schema: "restore" }),
    bullPrefix,
    queuePrefix: "restore",
    schedule: { minIntervalMs: 100, maxIntervalMs: 400 },
    events: { backoffMs: 10 },
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
  });
  const backend = createRedisBackend({ redis, prefix: storePrefix, loader: durability.loader });
  const progression = createProgression({
    definitions: [
      { code: "slayer_3", title: "t", description: "d", icon: "i", trigger: "kill", rule: { type: "count", threshold: 3 } },
      { code: "slayer_6", title: "t", description: "d", icon: "i", trigger: "kill", rule: { type: "count", threshold: 6 } },
    ],
    backend,
    events: durability.bus,
    onMissingTranslations: () => {},
  });
  const reached = new Map<string, number>();
  durability.bus.on("milestone.reached", "counter", (envelope) => {
    const key = `${envelope.payload.subject}/${envelope.payload.code}`;
    reached.set(key, (reached.get(key) ?? 0) + 1);
  });
  const subjects = Array.from({ length: 10 }, (_, i) => `p${i}`);
  const round = () => progression.recordBatch(subjects.map((subject) => ({ type: "kill", subject })));

  await durability.start(progression);
  try {
    for (let i = 0; i < 4; i += 1) await round(); // 4 kills each: slayer_3 awarded
    await progression.ledger.acquire({ subject: "p0", item: "gem", quantity: 7, idempotencyKey: "grant" });
    await durability.snapshotNow();

    const deleted = await deleteKeysWithPrefix(redis, storePrefix); // Redis loses everything of ours
    expect(deleted).toBeGreaterThan(0);

    for (let i = 0; i < 3; i += 1) await round(); // 7 kills each: slayer_6 awarded, slayer_3 not again
    await durability.bus.drain();

    for (const subject of subjects) {
      const progress = await progression.progress(subject);
      expect(progress.find((p) => p.code === "slayer_6")).toMatchObject({ status: "completed", current: 7 });
      expect(reached.get(`${subject}/slayer_3`)).toBe(1);
      expect(reached.get(`${subject}/slayer_6`)).toBe(1);
    }
    expect(await progression.ledger.balance("p0", "gem")).toMatchObject({ free: 7, held: 0 });
  } finally {
    await durability.close();
    await progression.close();
  }
});
