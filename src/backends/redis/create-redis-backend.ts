import { randomBytes } from "node:crypto";
import { Cluster, Redis, type ChainableCommander } from "ioredis";
import { addressOf, connectionReason, unreachable, withTimeout } from "../../errors/unreachable.ts";
import { consoleLogger } from "../../logging/logger.ts";
import { OutageLog } from "../../logging/outage-log.ts";
import { ErrorCode } from "../../errors/error-codes.ts";
import { ProgressionError } from "../../errors/progression-error.ts";
import { newHoldId, subjectOfHoldId } from "../contract/hold-id.ts";
import type { HoldReceipt, HoldRequest, HoldSettleRequest, MutationReceipt, QuantityRequest, TransferRequest } from "../contract/ledger-backend.ts";
import type { HoldRecord, HoldState } from "../../model/hold.ts";
import type { ApplyRequest, ClaimRequest, ClaimResult, RarityRequest, SubjectApply, SubjectApplyResult } from "../contract/progression-backend.ts";
import type { Balance } from "../../model/balance.ts";
import type { SubjectSnapshot, SubjectState } from "../../model/subject-state.ts";
import { PlanCache, batchDigest, packApplyGroup, packr, unpackSubjectResult, validateApplyRequest, type RawSubjectResult } from "./apply-request-codec.ts";
import { requirePositiveInteger, requireQuantity, requireText, requireTime } from "./boundary-validation.ts";
import { registerScripts, runScript, type ProgressionRedisClient, type ScriptCall } from "./redis-commands.ts";
import { REDIS_BACKEND_DEFAULTS, type RedisBackend, type RedisBackendOptions } from "./redis-backend-options.ts";
import { createRedisKeys, type RedisKeys, type ShardKeys } from "./redis-keys.ts";
import { recordedCalls, redisTopology, sendScript, type ReplicaAcks, type Send } from "./redis-topology.ts";
import { createLayoutCheck } from "./layout-check.ts";
import { MAX_SHARDS } from "./shard-tags.ts";
import { applyBatchArgs, balanceArgs, changeFreeArgs, claimArgs, dropHistoryArgs, expireHoldsArgs, getHoldArgs, holdArgs, importSubjectArgs, listArgs, seedArgs, eraseSubjectArgs, readHistoryArgs, foldHistoryArgs, settleHoldArgs, transferArgs, type ScriptSettings } from "./script-args.ts";
import { decodeHistoryHash, decodeHistoryLines, historyField, statusOf } from "./history-codec.ts";
import type { AwardRecord } from "../../model/award.ts";
import { ScriptStatus, backendUnavailable, scriptError } from "./script-errors.ts";
import { decodeBalancesHash, decodeHold, decodeMilestoneStats, decodeRarityCounts, rarityWindowDays, decodeStateHash, encodeSnapshotForImport } from "./state-codec.ts";
import { checkedBackend, createPersistenceCheck } from "./persistence-check.ts";
import { createTransferSaga } from "./transfer-saga.ts";
import { packSeedRequest } from "./seed-request-codec.ts";

/**
 * The Redis twin of the memory backend: all progress and ledger state in Redis, every mutation one
 * atomic Lua script (src/backends/redis/lua). Semantics: docs/semantics.md.
 */

type RawBalance = [subject: string, item: string, free: number, held: number];
type RawHold = [holdId: string, subject: string, item: string, quantity: number, createdAt: number, expiresAt: number, state: HoldState, settledAt: number];
type RawReply = [status: number, ...rest: unknown[]];

const toBalance = ([subject, item, free, held]: RawBalance): Balance => ({ subject, item, free, held });
const toHold = ([holdId, subject, item, quantity, createdAt, expiresAt, state, settledAt]: RawHold): HoldRecord => ({
  holdId,
  subject,
  item,
  quantity,
  createdAt,
  expiresAt,
  state,
  settledAt: settledAt < 0 ? null : settledAt,
});
const asArray = <T>(value: unknown): T[] => (Array.isArray(value) ? (value as T[]) : []);
/** Loader calls in flight at once when a flush finds many subjects missing (after a Redis loss). */
const RESTORE_CONCURRENCY = 16;

export function createRedisBackend(options: RedisBackendOptions = {}): RedisBackend {
  const settings = { ...REDIS_BACKEND_DEFAULTS, ...withoutUndefined(options) };
  const ownsClient = options.redis === undefined;
  // Options first, before a connection is opened for a backend that is then refused.
  const replicaAckCount = requireReplicaAcks(settings.replicaAcks);
  // Writes are acknowledged once that many replicas have them (WAIT), so a master lost right after keeps them.
  const replicas: ReplicaAcks | undefined = replicaAckCount === 0 ? undefined : { count: replicaAckCount, timeoutMs: requirePositiveInteger(settings.replicaAckTimeoutMs, "replicaAckTimeoutMs") };
  const url = options.url ?? process.env.REDIS_URL ?? REDIS_BACKEND_DEFAULTS.url;
  const clusterNodes = options.redis === undefined ? clusterNodeList(options.clusterNodes) : undefined;
  const address = clusterNodes === undefined ? addressOf(url, 6379) : `the Redis Cluster at ${clusterNodes.map((node) => `${node.host}:${node.port}`).join(",")}`;
  // During an outage a call fails within about a second (one reconnection attempt, at most 1 s apart),
  // so rooms and the recorder learn it quickly, and the first reconnection after Redis is back is at most 1 s late.
  const retryStrategy = (attempt: number): number => Math.min(attempt * 100, 1_000);
  const client: ProgressionRedisClient =
    options.redis ??
    (clusterNodes === undefined
      ? new Redis(url, { maxRetriesPerRequest: 1, retryStrategy })
      : // No auto-pipelining: it takes a script call's slot from its first argument, which is the key count.
        (new Cluster(clusterNodes, { clusterRetryStrategy: retryStrategy, redisOptions: { maxRetriesPerRequest: 1 } }) as unknown as ProgressionRedisClient));
  const logger = options.logger ?? consoleLogger;
  // One line per outage (ioredis retries, and reports every failed attempt).
  const outage = new OutageLog(logger, `Redis at ${address}`);
  let lastConnectionError: unknown;
  let everReady = false;
  /** While `ready()` waits, a failure is its to report (as one error), not the outage log's. */
  let awaitingReady = false;
  let inOutage = false;
  if (ownsClient && (client instanceof Redis || client instanceof Cluster)) {
    client.on("error", (error: Error) => {
      lastConnectionError = error;
      if (awaitingReady) return;
      if (options.onConnectionError === undefined) {
        outage.failed(error);
      } else {
        if (!inOutage) options.onConnectionError(error);
        inOutage = true;
      }
    });
    client.on("ready", () => {
      everReady = true;
      inOutage = false;
      outage.recovered();
    });
  }
  const isCluster = client.isCluster === true;
  if (isCluster && (client as unknown as Cluster).options?.enableAutoPipelining === true) {
    throw new ProgressionError(
      ErrorCode.InvalidInput,
      "redis: an ioredis Cluster with enableAutoPipelining cannot run the backend's scripts (ioredis takes a script call's slot from its first argument, the key count): pass a Cluster without it",
      {},
    );
  }
  registerScripts(client);
  // The Redis an injected client talks to, for the persistence check's message.
  const clientAddress = options.redis instanceof Redis ? `${options.redis.options.host ?? "127.0.0.1"}:${options.redis.options.port ?? 6379}` : address;
  const topology = redisTopology(client, clientAddress);
  const shardCount = isCluster ? requireShardCount(settings.clusterShards) : 1;
  const keys: RedisKeys = createRedisKeys(requireText(settings.prefix, "prefix", 200), shardCount);
  const persistence = createPersistenceCheck(topology, settings.allowVolatileRedis);
  const layout = createLayoutCheck(client, keys);
  // Every data call first: a Redis that keeps its writes, and data laid out as this backend reads it.
  const dataChecks = {
    async require(operation?: string): Promise<void> {
      // A Cluster client knows its masters (whose persistence is checked) once connected: the first calls wait for it.
      if (isCluster && client.status !== "ready") await connected(settings.connectTimeoutMs);
      await persistence.require(operation);
      await layout.require(operation);
    },
  };
  const idempotencyRetentionMs = requirePositiveInteger(settings.idempotencyRetentionMs, "idempotencyRetentionMs");
  const eventIdRetentionMs = requirePositiveInteger(settings.eventIdRetentionMs, "eventIdRetentionMs");
  const historyMaxRollups = requirePositiveInteger(settings.historyMaxRollups, "historyMaxRollups");
  // On a Cluster a call holds subjects of one shard (one slot); each shard's subjects are chunked alike.
  const subjectsPerCall = requirePositiveInteger(settings.subjectsPerCall, "subjectsPerCall");
  const transferCompletionMs = requirePositiveInteger(settings.transferCompletionMs, "transferCompletionMs");
  /** Where the next `takeDirtySubjects` starts on a Cluster: the shards take turns being drained first. */
  let nextDirtyShard = 0;
  const loader = options.loader;
  const scriptSettings: ScriptSettings = { keys, useServerTime: settings.useServerTime, idempotencyRetentionMs, checkRestore: loader !== undefined };
  const planCache = new PlanCache();

  async function call(operation: string, script: ScriptCall): Promise<RawReply> {
    let raw: Buffer;
    try {
      if (replicas === undefined) {
        raw = await runScript(client, script);
      } else {
        const [[error, reply] = [new Error("no reply"), null]] = await topology.sendAll([sendScript(script)], replicas);
        if (error) throw error;
        raw = reply as Buffer;
      }
    } catch (error) {
      throw backendUnavailable(operation, error);
    }
    const reply = packr.unpack(raw) as unknown;
    if (!Array.isArray(reply) || typeof reply[0] !== "number") {
      throw new ProgressionError(ErrorCode.BackendUnavailable, `${operation}: malformed script reply`, {});
    }
    return reply as RawReply;
  }

  /** Loads and installs the snapshots of subjects Redis holds nothing for (a few loader calls at once). */
  async function restore(subjects: readonly string[]): Promise<void> {
    if (!loader) return;
    const pending = [...new Set(subjects)];
    const installOne = async (subject: string): Promise<void> => {
      let snapshot: SubjectSnapshot | null;
      try {
        snapshot = await loader(subject);
      } catch (error) {
        throw backendUnavailable(`restore of ${JSON.stringify(subject)} (loader)`, error);
      }
      const empty: SubjectSnapshot = { subject, counters: new Map(), awards: new Map(), balances: [], holds: [] };
      await call(`restore of ${JSON.stringify(subject)}`, importSubjectArgs(keys, subject, packr.pack(encodeSnapshotForImport(snapshot ?? empty))));
    };
    const workers = Array.from({ length: Math.min(RESTORE_CONCURRENCY, pending.length) }, async () => {
      for (let subject = pending.pop(); subject !== undefined; subject = pending.pop()) await installOne(subject);
    });
    await Promise.all(workers);
  }

  /** Runs a one-subject script; if it asks for a restore, restores and runs it again (at most twice). */
  async function withRestore(operation: string, script: ScriptCall): Promise<RawReply> {
    for (let attempt = 0; ; attempt += 1) {
      const reply = await call(operation, script);
      if (reply[0] !== ScriptStatus.RestoreNeeded) return reply;
      if (attempt >= 2) throw new ProgressionError(ErrorCode.BackendUnavailable, `${operation}: subject restore did not take`, {});
      await restore(asArray<string>(reply[2]));
    }
  }

  /** Throws the typed error of a refused ledger reply ([status, message, expiredHolds, hold?]). */
  function ledgerFailure(reply: RawReply, operation: string, details: Record<string, unknown>): never {
    const expiredHolds = asArray<RawHold>(reply[2]).map(toHold);
    throw scriptError(reply[0], String(reply[1]), operation, {
      ...details,
      ...(expiredHolds.length > 0 ? { expiredHolds } : {}),
      ...(reply[3] ? { hold: toHold(reply[3] as RawHold) } : {}),
    });
  }

  function mutationReceipt(reply: RawReply): MutationReceipt {
    return {
      replayed: reply[0] === ScriptStatus.Replayed,
      balances: asArray<RawBalance>(reply[1]).map(toBalance),
      expiredHolds: asArray<RawHold>(reply[2]).map(toHold),
    };
  }

  async function changeFree(request: QuantityRequest, direction: 1 | -1): Promise<MutationReceipt> {
    const operation = direction > 0 ? "acquire" : "consume";
    const subject = requireText(request.subject, "subject", 200);
    const item = requireText(request.item, "item", 200);
    const quantity = requireQuantity(request.quantity);
    const key = requireText(request.idempotencyKey, "idempotencyKey");
    const now = requireTime(request.now);
    const reply = await withRestore(operation, changeFreeArgs(scriptSettings, { subject, item, quantity, idempotencyKey: key, now, direction }));
    if (reply[0] < 0) ledgerFailure(reply, operation, { subject, item, quantity, idempotencyKey: key });
    return mutationReceipt(reply);
  }

  async function settle(request: HoldSettleRequest, action: "commit" | "release"): Promise<HoldReceipt> {
    const subject = subjectOfHoldId(request.holdId);
    const now = requireTime(request.now);
    const reply = await withRestore(action, settleHoldArgs(scriptSettings, subject, request.holdId, action, now));
    if (reply[0] < 0) ledgerFailure(reply, action, { holdId: request.holdId });
    return { ...mutationReceipt(reply), hold: toHold(reply[3] as RawHold) };
  }

  /** Runs a reading ledger script (it may expire due holds too) and throws its refusal. */
  async function readLedger(operation: string, subject: string, script: ScriptCall): Promise<RawReply> {
    const reply = await withRestore(operation, script);
    if (reply[0] < 0) ledgerFailure(reply, operation, { subject });
    return reply;
  }

  async function applyGroups(groups: SubjectApply[][], request: ApplyRequest): Promise<Map<string, SubjectApplyResult>> {
    const rows = planCache.rows(request.plan);
    const digest = batchDigest(request.batchId);
    // Names this call: a duplicate whose outbox entry carries it was applied by this very call (the client
    // lost the reply and resent the script), so its outcome is this call's to announce.
    const callId = randomBytes(8).toString("hex");
    const header = { now: request.now, checkRestore: loader !== undefined, eventIdRetentionMs, counterSet: request.plan.counterSet, historyMaxRollups };
    const results = new Map<string, SubjectApplyResult>();
    let pending = groups;
    for (let attempt = 0; pending.length > 0; attempt += 1) {
      const calls = pending.map((group): Send => {
        const subjects = group.map((entry) => entry.subject);
        return sendScript(applyBatchArgs(keys, subjects, packApplyGroup(group, rows, header), digest, callId));
      });
      let replies: Array<[Error | null, unknown]> | null;
      try {
        replies = await topology.sendAll(calls, replicas);
      } catch (error) {
        throw backendUnavailable("apply", error);
      }
      const retry: SubjectApply[][] = [];
      const missing: string[] = [];
      for (const [index, group] of pending.entries()) {
        const [error, raw] = replies?.[index] ?? [new Error("no reply"), null];
        if (error) throw backendUnavailable("apply", error);
        const reply = packr.unpack(raw as Buffer) as RawReply;
        if (reply[0] === ScriptStatus.RestoreNeeded) {
          retry.push(group);
          missing.push(...asArray<string>(reply[2]));
          continue;
        }
        if (reply[0] !== ScriptStatus.Ok) throw scriptError(reply[0], String(reply[1]), "apply", { batchId: request.batchId, ...(reply[0] === ScriptStatus.HistoryFull ? { subjects: reply[2] } : {}) });
        const perSubject = asArray<RawSubjectResult>(reply[1]);
        group.forEach((entry, i) => {
          const raw = perSubject[i];
          if (!raw) return;
          const result = unpackSubjectResult(entry.subject, raw);
          // A resend of this call (ioredis resends what was in flight when a connection drops) finds the batch
          // applied by this call itself: not a duplicate for the engine, its outcome was never delivered.
          const appliedHere = result.duplicate && raw[4] === callId;
          results.set(entry.subject, appliedHere ? { ...result, duplicate: false } : result);
        });
      }
      if (retry.length > 0 && attempt >= 2) {
        throw new ProgressionError(ErrorCode.BackendUnavailable, "apply: subject restore did not take", { subjects: missing });
      }
      await restore(missing);
      pending = retry;
    }
    return results;
  }

  /** Resolves once the client is connected; rejects after `timeoutMs` with one line naming the address. */
  async function connected(timeoutMs: number): Promise<void> {
    if (!(client instanceof Redis || client instanceof Cluster) || client.status === "ready") return;
    const ready = new Promise<void>((resolve) => client.once("ready", () => resolve()));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    awaitingReady = true;
    const outcome = await Promise.race([ready, timeout]).finally(() => {
      awaitingReady = false;
    });
    clearTimeout(timer);
    if (outcome === "timeout") {
      const cause = lastConnectionError ?? new Error(`no answer within ${timeoutMs} ms`);
      throw unreachable("Redis", address, options.source ?? "url", cause);
    }
  }

  /** Runs the commands `build` queues in one round trip (topology.sendAll); returns each reply, throwing the first error. */
  async function pipelined(operation: string, build: (pipeline: ReturnType<ProgressionRedisClient["pipeline"]>) => void): Promise<unknown[]> {
    return sent(operation, recordedCalls(build), false);
  }

  /** Sends `calls` in one round trip; `writes`: they change state players were told about, so they wait for `replicaAcks`. */
  async function sent(operation: string, calls: readonly Send[], writes: boolean): Promise<unknown[]> {
    let replies: Array<[Error | null, unknown]> | null;
    try {
      replies = await topology.sendAll(calls, writes ? replicas : undefined);
    } catch (error) {
      throw backendUnavailable(operation, error);
    }
    return (replies ?? []).map(([error, reply]) => {
      if (error) throw backendUnavailable(operation, error);
      return reply;
    });
  }

  const allShards: readonly ShardKeys[] = Array.from({ length: shardCount }, (_, index) => keys.shard(index));

  /** Items grouped by their subject's shard (one group on a single Redis), each in request order. */
  function byShard<T>(items: readonly T[], subjectOf: (item: T) => string): Map<number, T[]> {
    const groups = new Map<number, T[]>();
    for (const item of items) {
      const shard = keys.shardOf(subjectOf(item)).index;
      const group = groups.get(shard);
      if (group) group.push(item);
      else groups.set(shard, [item]);
    }
    return groups;
  }

  /** Releases due holds of one shard's index into `expired` / `balances` until `limit` holds are expired. */
  async function expireShardHolds(shard: ShardKeys, now: number, limit: number, expired: HoldRecord[], balances: Balance[]): Promise<void> {
    // Due holds at the head of the index that stay held (their quantity would not fit in free): passed
    // over, so they never keep the job from the holds behind them.
    let passedOver = 0;
    while (expired.length < limit) {
      const due = await client.zrangebyscore(shard.holdExpiryIndex, "-inf", now, "LIMIT", passedOver, limit - expired.length).catch((error: unknown) => {
        throw backendUnavailable("expireHolds", error);
      });
      if (due.length === 0) break;
      const perSubject = new Map<string, number>();
      for (const holdId of due) {
        const subject = subjectOfHoldId(holdId);
        perSubject.set(subject, (perSubject.get(subject) ?? 0) + 1);
      }
      const window = new Set(due);
      let releasedInWindow = 0;
      for (const [subject, count] of perSubject) {
        // Each subject's script releases at most `count`, so the run releases at most `limit` in all.
        const reply = await call("expireHolds", expireHoldsArgs(scriptSettings, subject, count, now));
        if (reply[0] < 0) ledgerFailure(reply, "expireHolds", { subject });
        for (const balance of asArray<RawBalance>(reply[2]).map(toBalance)) {
          // A later window's read of the same item is newer.
          const at = balances.findIndex((known) => known.subject === balance.subject && known.item === balance.item);
          if (at === -1) balances.push(balance);
          else balances[at] = balance;
        }
        for (const hold of asArray<RawHold>(reply[1]).map(toHold)) {
          expired.push(hold);
          if (window.has(hold.holdId)) releasedInWindow += 1;
        }
      }
      passedOver += due.length - releasedInWindow;
    }
  }

  const saga = createTransferSaga({
    settings: scriptSettings,
    shards: allShards,
    run: withRestore,
    refusal: (reply, details) => ledgerFailure(reply, "transfer", details),
    toBalance,
    toHolds: (raw) => asArray<RawHold>(raw).map(toHold),
    readEscrows: async () =>
      (await pipelined("completeTransfers", (pipeline) => {
        for (const shard of allShards) pipeline.hgetallBuffer(shard.escrow);
      })) as Record<string, Buffer>[],
  });
  /** When the sweep last looked for stale escrows: at most once per `transferCompletionMs`. */
  let escrowsCheckedAt = Number.NEGATIVE_INFINITY;

  const backend: RedisBackend = {
    kind: "redis",

    async ready(timeoutMs = settings.connectTimeoutMs) {
      await connected(timeoutMs);
      // Connected is not enough: a Redis that would lose acknowledged writes is refused at start, and so is
      // data laid out for another topology.
      await dataChecks.require();
    },

    async health() {
      const started = performance.now();
      try {
        await withTimeout(client.ping(), settings.connectTimeoutMs);
        return { ok: true, detail: `Redis at ${address}: PONG in ${(performance.now() - started).toFixed(1)} ms` };
      } catch (error) {
        return { ok: false, detail: `Redis at ${address}: ${connectionReason(lastConnectionError ?? error)}` };
      }
    },

    async apply(request) {
      const subjects = validateApplyRequest(request);
      const groups: SubjectApply[][] = [];
      for (const shard of byShard(subjects, (entry) => entry.subject).values()) {
        for (let i = 0; i < shard.length; i += subjectsPerCall) groups.push(shard.slice(i, i + subjectsPerCall));
      }
      const results = await applyGroups(groups, request);
      // One result per request entry, like the memory backend: a subject listed twice was applied
      // once (merged), so its later entries report `duplicate` with nothing new.
      const reported = new Set<string>();
      return request.subjects.map((entry): SubjectApplyResult => {
        const result = results.get(entry.subject);
        if (!result) throw new ProgressionError(ErrorCode.BackendUnavailable, `apply: no result for ${entry.subject}`, {});
        if (reported.has(entry.subject)) return { subject: entry.subject, duplicate: true, reached: [], progress: [], balances: [] };
        reported.add(entry.subject);
        return result;
      });
    },

    async readState(subject): Promise<SubjectState> {
      requireText(subject, "subject", 200);
      const k = keys.subject(subject);
      let fields = await client.hgetall(k.state).catch((error: unknown) => {
        throw backendUnavailable("readState", error);
      });
      if (loader && fields["~"] === undefined && fields["~b"] === undefined) {
        await restore([subject]);
        fields = await client.hgetall(k.state);
      }
      return { subject, ...decodeStateHash(fields) };
    },

    async claim(request: ClaimRequest): Promise<ClaimResult> {
      const subject = requireText(request.subject, "subject", 200);
      const code = requireText(request.code, "code", 200);
      const key = requireText(request.idempotencyKey, "idempotencyKey");
      const now = requireTime(request.now);
      const rewards = request.rewards.map((reward) => ({ item: requireText(reward.item, "reward item", 200), quantity: requireQuantity(reward.quantity) }));
      const reply = await withRestore("claim", claimArgs(scriptSettings, { subject, code, rewards, idempotencyKey: key, now }));
      if (reply[0] < 0) throw scriptError(reply[0], String(reply[1]), `claim of ${JSON.stringify(code)} by ${JSON.stringify(subject)}`, { subject, code, idempotencyKey: key });
      return {
        subject,
        code,
        claimedAt: reply[1] as number,
        rewards: request.rewards,
        balances: asArray<RawBalance>(reply[2]).map(toBalance),
        replayed: reply[0] === ScriptStatus.Replayed,
      };
    },

    acquire: (request) => changeFree(request, 1),
    consume: (request) => changeFree(request, -1),

    async transfer(request: TransferRequest): Promise<MutationReceipt> {
      const from = requireText(request.from, "from", 200);
      const to = requireText(request.to, "to", 200);
      const item = requireText(request.item, "item", 200);
      const quantity = requireQuantity(request.quantity);
      const key = requireText(request.idempotencyKey, "idempotencyKey");
      const now = requireTime(request.now);
      if (from === to) {
        throw new ProgressionError(ErrorCode.InvalidInput, `transfer: from and to are both ${JSON.stringify(from)}; transfer between two different subjects`, {
          from,
          to,
        });
      }
      const allowNewReceiver = request.allowNewReceiver ?? false;
      if (typeof allowNewReceiver !== "boolean") {
        throw new ProgressionError(ErrorCode.InvalidInput, `transfer: allowNewReceiver must be true or false, got ${JSON.stringify(allowNewReceiver)}`, { from, to });
      }
      // Two shards (a Cluster): no one script may touch both, so the transfer runs as a saga of one-shard steps.
      if (keys.shardOf(from) !== keys.shardOf(to)) return saga.run({ from, to, item, quantity, idempotencyKey: key, now, allowNewReceiver });
      const reply = await withRestore("transfer", transferArgs(scriptSettings, { from, to, item, quantity, idempotencyKey: key, now, allowNewReceiver }));
      if (reply[0] < 0) ledgerFailure(reply, "transfer", { from, to, item, quantity, idempotencyKey: key });
      return mutationReceipt(reply);
    },

    async hold(request: HoldRequest): Promise<HoldReceipt> {
      const subject = requireText(request.subject, "subject", 200);
      const item = requireText(request.item, "item", 200);
      const quantity = requireQuantity(request.quantity);
      const ttlMs = requirePositiveInteger(request.ttlMs, "ttlMs");
      const key = requireText(request.idempotencyKey, "idempotencyKey");
      const now = requireTime(request.now);
      const holdId = newHoldId(subject);
      const reply = await withRestore("hold", holdArgs(scriptSettings, { subject, item, quantity, ttlMs, holdId, idempotencyKey: key, now }));
      if (reply[0] < 0) ledgerFailure(reply, "hold", { subject, item, quantity, idempotencyKey: key });
      return { ...mutationReceipt(reply), hold: toHold(reply[3] as RawHold) };
    },

    commit: (request) => settle(request, "commit"),
    release: (request) => settle(request, "release"),

    async getHold(holdId, now) {
      const subject = subjectOfHoldId(holdId);
      const reply = await readLedger("getHold", subject, getHoldArgs(scriptSettings, subject, holdId, requireTime(now)));
      // The holds this call expired on the way (the caller reports them) and their items' balances.
      return { hold: toHold(reply[1] as RawHold), expiredHolds: asArray<RawHold>(reply[2]).map(toHold), balances: asArray<RawBalance>(reply[3]).map(toBalance) };
    },

    async balance(subject, item, now) {
      requireText(subject, "subject", 200);
      requireText(item, "item", 200);
      const reply = await readLedger("balance", subject, balanceArgs(scriptSettings, subject, item, requireTime(now)));
      const balance = asArray<RawBalance>(reply[1]).map(toBalance)[0] ?? { subject, item, free: 0, held: 0 };
      const expiredHolds = asArray<RawHold>(reply[2]).map(toHold);
      // Effects: the balance counts as changed only when this call released expired holds.
      return { balance, balances: expiredHolds.length > 0 ? [balance] : [], expiredHolds };
    },

    async list(subject, now) {
      requireText(subject, "subject", 200);
      const reply = await readLedger("list", subject, listArgs(scriptSettings, subject, requireTime(now)));
      return {
        balances: asArray<RawBalance>(reply[1]).map(toBalance),
        expiredHolds: asArray<RawHold>(reply[2]).map(toHold),
        openHolds: asArray<RawHold>(reply[3]).map(toHold),
      };
    },

    async expireHolds(now, limit) {
      requireTime(now);
      requirePositiveInteger(limit, "limit");
      const expired: HoldRecord[] = [];
      const balances: Balance[] = [];
      // Only the shards whose index has a due hold are visited (one ZCOUNT each, sent at once).
      const dueCounts = await pipelined("expireHolds", (pipeline) => {
        for (const shard of allShards) pipeline.zcount(shard.holdExpiryIndex, "-inf", now);
      });
      for (const shard of allShards) {
        if (expired.length >= limit) break;
        if (Number(dueCounts[shard.index]) === 0) continue;
        await expireShardHolds(shard, now, limit, expired, balances);
      }
      return { expiredHolds: expired.sort((a, b) => a.expiresAt - b.expiresAt), balances };
    },

    async completeTransfers(now) {
      requireTime(now);
      // Only a Cluster's transfers have steps to be left between; and a sweep looks at most this often.
      if (shardCount === 1 || now - escrowsCheckedAt < transferCompletionMs) return [];
      escrowsCheckedAt = now;
      return saga.completeStale(now, transferCompletionMs);
    },

    async takeDirtySubjects(limit) {
      requirePositiveInteger(limit, "limit");
      if (shardCount === 1) {
        return client.spop(keys.shard(0).dirty, limit).catch((error: unknown) => {
          throw backendUnavailable("takeDirtySubjects", error);
        });
      }
      // One SCARD per shard, then SPOPs from the shards that have some, starting where the last call
      // stopped, so no shard waits behind the others.
      const sizes = (await pipelined("takeDirtySubjects", (pipeline) => {
        for (const shard of allShards) pipeline.scard(shard.dirty);
      })) as number[];
      const pops: [ShardKeys, number][] = [];
      let wanted = limit;
      for (let turn = 0; turn < shardCount && wanted > 0; turn += 1) {
        const shard = allShards[(nextDirtyShard + turn) % shardCount] as ShardKeys;
        const size = sizes[shard.index] ?? 0;
        if (size === 0) continue;
        const count = Math.min(size, wanted);
        pops.push([shard, count]);
        wanted -= count;
        nextDirtyShard = (shard.index + 1) % shardCount;
      }
      const taken = await pipelined("takeDirtySubjects", (pipeline) => {
        for (const [shard, count] of pops) pipeline.spop(shard.dirty, count);
      });
      return taken.flatMap((subjects) => subjects as string[]);
    },

    async markDirty(subjects) {
      if (subjects.length === 0) return;
      const adds = [...byShard(subjects, (subject) => subject)].map(([shard, members]) => {
        const dirty = keys.shard(shard).dirty;
        return Object.assign((target: ChainableCommander) => target.sadd(dirty, ...members), { key: dirty });
      });
      await sent("markDirty", adds, true);
    },

    async dirtyCount() {
      const sizes = await pipelined("dirtyCount", (pipeline) => {
        for (const shard of allShards) pipeline.scard(shard.dirty);
      });
      return sizes.reduce((sum: number, size) => sum + Number(size), 0);
    },

    async exportSubjects(subjects): Promise<readonly SubjectSnapshot[]> {
      if (subjects.length === 0) return [];
      // One MULTI per shard (a transaction stays on one slot): every subject is read at one instant,
      // consistent across its keys; its history log is folded into the history hash first, so the export
      // holds every rollup. `replies` holds each subject's five replies at its place in `subjects`.
      const replies = new Array<[Error | null, unknown]>(subjects.length * 5);
      const groups = byShard([...subjects.entries()], ([, subject]) => subject);
      await Promise.all(
        [...groups.values()].map(async (group) => {
          const transaction = client.multi();
          for (const [, subject] of group) {
            const k = keys.subject(subject);
            runScript(transaction, foldHistoryArgs(keys, subject));
            transaction.hgetall(k.state).hgetall(k.balances).hgetall(k.holds).hgetall(k.history);
          }
          const shardReplies = await transaction.exec().catch((error: unknown) => {
            throw backendUnavailable("exportSubjects", error);
          });
          group.forEach(([i], j) => {
            for (let offset = 0; offset < 5; offset += 1) replies[i * 5 + offset] = shardReplies?.[j * 5 + offset] ?? [null, null];
          });
        }),
      );
      return subjects.map((subject, i) => {
        const field = (offset: number): Record<string, string> => {
          const [error, value] = replies?.[i * 5 + 1 + offset] ?? [null, {}];
          if (error) throw backendUnavailable("exportSubjects", error);
          return (value ?? {}) as Record<string, string>;
        };
        const { counters, awards } = decodeStateHash(field(0));
        const holds = Object.entries(field(2))
          .map(([holdId, raw]) => decodeHold(subject, holdId, raw))
          .filter((hold): hold is HoldRecord => hold !== null && hold.state === "held");
        const history = decodeHistoryHash(field(3));
        return { subject, counters, awards, balances: decodeBalancesHash(subject, field(1)), holds, history: history.parts, historyCompleteFor: history.status.completeFor };
      });
    },

    async historyStatus(subject) {
      const [status] = await this.historyStatuses([subject]);
      return status ?? statusOf(undefined, undefined);
    },

    async historyStatuses(subjects) {
      for (const subject of subjects) requireText(subject, "subject", 200);
      if (subjects.length === 0) return [];
      if (loader) {
        const markers = await pipelined("historyStatus", (pipeline) => {
          for (const subject of subjects) pipeline.hmget(keys.subject(subject).state, "~", "~b");
        });
        const missing = subjects.filter((_, i) => (markers[i] as (string | null)[]).every((marker) => marker === null));
        if (missing.length > 0) await restore(missing);
      }
      const replies = await pipelined("historyStatus", (pipeline) => {
        for (const subject of subjects) pipeline.hmget(keys.subject(subject).history, "~q", "~h");
      });
      return replies.map((reply) => {
        const [version, completeFor] = reply as (string | null)[];
        return statusOf(version, completeFor);
      });
    },

    async readHistory(subject, selection) {
      const [history] = await this.readHistories([subject], selection);
      return history ?? { status: statusOf(undefined, undefined), parts: [] };
    },

    async readHistories(subjects, selection) {
      for (const subject of subjects) requireText(subject, "subject", 200);
      if (subjects.length === 0) return [];
      const replies = await pipelined("readHistory", (pipeline) => {
        for (const subject of subjects) runScript(pipeline, readHistoryArgs(keys, subject, selection));
      });
      return replies.map((raw) => {
        const reply = packr.unpack(raw as Buffer) as RawReply;
        if (reply[0] !== ScriptStatus.Ok) throw scriptError(reply[0], String(reply[1]), "readHistory", {});
        return decodeHistoryLines(String(reply[1]), selection);
      });
    },

    async seed(request) {
      const [result] = await this.seedMany([request]);
      if (result === undefined) throw new ProgressionError(ErrorCode.BackendUnavailable, "seed: no reply", {});
      return result;
    },

    async seedMany(requests) {
      if (requests.length === 0) return [];
      const calls = requests.map((request) => {
        const subject = requireText(request.subject, "subject", 200);
        return { subject, script: seedArgs(keys, subject, packSeedRequest(request)) };
      });
      const replies = await sent("seed", calls.map(({ script }) => sendScript(script)), true);
      return replies.map((raw, i) => {
        const subject = calls[i]?.subject ?? "";
        const reply = packr.unpack(raw as Buffer) as RawReply;
        if (reply[0] !== ScriptStatus.Ok) throw scriptError(reply[0], String(reply[1]), "seed", { subject });
        const { reached, balances } = unpackSubjectResult(subject, [0, reply[2] as unknown[], 0, reply[3] as unknown[]]);
        return { conflict: reply[1] === 1, reached: reached as AwardRecord[], balances };
      });
    },

    async registerCounterSet(counterSet, counters) {
      await client.hsetnx(keys.counterSets, requireText(counterSet, "counterSet", 200), counters.join(",")).catch((error: unknown) => {
        throw backendUnavailable("registerCounterSet", error);
      });
    },

    async counterSetOf(counterSet) {
      const ids = await client.hget(keys.counterSets, counterSet).catch((error: unknown) => {
        throw backendUnavailable("counterSetOf", error);
      });
      return ids === null ? null : ids === "" ? [] : ids.split(",");
    },

    async historySubjects(cursor, limit) {
      requirePositiveInteger(limit, "limit");
      const page = await topology.scan(cursor, keys.historyPattern, limit).catch((error: unknown) => {
        throw backendUnavailable("historySubjects", error);
      });
      return { subjects: [...new Set(page.keys.map((key) => keys.subjectOfHistoryKey(key)))], cursor: page.cursor };
    },

    async dropArchivedHistory(archived, beforeDay) {
      if (archived.length === 0) return;
      const calls: Send[] = [];
      for (const { subject, parts } of archived) {
        // The part every non-late rollup of the export carries: the hash's own part at export time.
        const own = parts.find((part) => !part.part.includes("+"))?.part ?? parts[0]?.part.split("+")[0];
        if (own === undefined) continue;
        const fields: string[] = [];
        for (const part of parts) {
          if (part.part === own && part.day >= beforeDay) continue;
          if (part.part !== own && !part.part.startsWith(`${own}+`)) continue;
          fields.push(...historyField(part, own));
        }
        const script = dropHistoryArgs(keys, subject, packr.pack([own, beforeDay, fields]));
        calls.push((target) => runScript(target, script));
      }
      if (calls.length === 0) return;
      const replies = await topology.sendAll(calls).catch((error: unknown) => {
        throw backendUnavailable("dropArchivedHistory", error);
      });
      for (const [error] of replies ?? []) if (error) throw backendUnavailable("dropArchivedHistory", error);
    },

    async eraseSubject(subject) {
      requireText(subject, "subject", 200);
      const reply = await call("eraseSubject", eraseSubjectArgs(keys, subject));
      if (reply[0] !== ScriptStatus.Ok) throw scriptError(reply[0], String(reply[1]), "eraseSubject", { subject });
      try {
        // Its idempotency records, and the credit outcomes of transfers it received across shards.
        for (const pattern of [keys.idempotencyPattern(subject), keys.transferCreditPattern(subject)]) {
          let cursor = "0";
          do {
            // On a Cluster every record of the subject is on its shard's slot: one UNLINK per page holds.
            const page = await topology.scan(cursor, pattern, 1000);
            if (page.keys.length > 0) await client.unlink(...page.keys);
            cursor = page.cursor;
          } while (cursor !== "0");
        }
      } catch (error) {
        throw backendUnavailable("eraseSubject (idempotency records)", error);
      }
    },

    async rarityCounts(request: RarityRequest) {
      const days = rarityWindowDays(request.today, request.windowDays);
      // One read of the window's fields (includes/rarity.lua): per day its active players, then its holders per code.
      const fields: string[] = [];
      for (const day of days) {
        fields.push(`a:${day}`);
        for (const code of request.codes) fields.push(`${day}:${code}`);
      }
      if (fields.length === 0) return decodeRarityCounts(request.codes, days.length, []);
      const perShard = (await pipelined("rarityCounts", (pipeline) => {
        for (const shard of allShards) pipeline.hmget(shard.rarity, ...fields);
      })) as (string | null)[][];
      return decodeRarityCounts(request.codes, days.length, summedFields(perShard, fields.length));
    },

    async milestoneStats() {
      const perShard = (await pipelined("milestoneStats", (pipeline) => {
        for (const shard of allShards) pipeline.hgetall(shard.milestoneStats);
      })) as Record<string, string>[];
      const fields: Record<string, string> = {};
      for (const shardFields of perShard) {
        for (const [field, value] of Object.entries(shardFields)) fields[field] = String(Number(fields[field] ?? 0) + Number(value));
      }
      return decodeMilestoneStats(fields);
    },

    async close() {
      if (!ownsClient || client.status === "end") return;
      // Never connected: nothing to say goodbye to (QUIT would wait for a connection).
      if (!everReady && client instanceof Redis) client.disconnect();
      else await client.quit().catch(() => undefined);
    },
  };
  return checkedBackend(backend, dataChecks);
}

/**
 * Creates the Redis backend and waits until Redis answers (at most `connectTimeoutMs`): a wrong address fails
 * at start with one line, e.g. `cannot reach Redis at 127.0.0.1:27999 (REDIS_URL): connection refused`.
 */
export async function connectRedisBackend(options: RedisBackendOptions = {}): Promise<RedisBackend> {
  const backend = createRedisBackend(options);
  try {
    await backend.ready();
  } catch (error) {
    await backend.close();
    throw error;
  }
  return backend;
}

/** Per field, the sum of the shards' values (null where no shard has one). */
function summedFields(perShard: readonly (readonly (string | null)[])[], fieldCount: number): (string | null)[] {
  const sums: (string | null)[] = new Array<string | null>(fieldCount).fill(null);
  for (const values of perShard) {
    values.forEach((value, i) => {
      if (value !== null) sums[i] = String(Number(sums[i] ?? 0) + Number(value));
    });
  }
  return sums;
}

function requireReplicaAcks(value: unknown): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0 || (value as number) > 16) {
    throw new ProgressionError(ErrorCode.InvalidInput, `replicaAcks must be a whole number of replicas from 0 to 16, got ${JSON.stringify(value)}; 0 (the default) does not wait for replicas`, { replicaAcks: value });
  }
  return value as number;
}

function requireShardCount(value: unknown): number {
  if (!Number.isSafeInteger(value) || (value as number) < 1 || (value as number) > MAX_SHARDS) {
    throw new ProgressionError(ErrorCode.InvalidInput, `clusterShards must be an integer from 1 to ${MAX_SHARDS}, got ${JSON.stringify(value)}; leave it out for 256`, { clusterShards: value });
  }
  return value as number;
}

/** `clusterNodes` as ioredis takes them, or undefined for none; a malformed entry is refused naming it. */
function clusterNodeList(nodes: RedisBackendOptions["clusterNodes"]): { host: string; port: number }[] | undefined {
  if (nodes === undefined) return undefined;
  if (!Array.isArray(nodes) || nodes.length === 0) {
    throw new ProgressionError(ErrorCode.InvalidInput, `clusterNodes must be a non-empty list of "host:port" or { host, port }, got ${JSON.stringify(nodes)}`, { clusterNodes: nodes });
  }
  return nodes.map((node: unknown) => {
    const parsed = typeof node === "string" ? /^(.+):(\d{1,5})$/.exec(node) : null;
    const host = parsed ? parsed[1] : (node as { host?: unknown } | null)?.host;
    const port = parsed ? Number(parsed[2]) : (node as { port?: unknown } | null)?.port;
    if (typeof host !== "string" || host === "" || !Number.isInteger(port) || (port as number) < 1 || (port as number) > 65_535) {
      throw new ProgressionError(ErrorCode.InvalidInput, `clusterNodes: ${JSON.stringify(node)} is not "host:port" or { host, port } with a port from 1 to 65535`, { clusterNodes: nodes });
    }
    return { host, port: port as number };
  });
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
