import { shardOfSlot, shardTags } from "./shard-tags.ts";
import calculateSlot from "cluster-key-slot";

/**
 * Every key the backend touches, built in one place. A script may only touch keys of one Redis Cluster
 * slot, so keys come in **shards**: a subject's keys and the shared structures its scripts change (dirty
 * set, hold expiry index, milestone stats, rarity counts, transfer escrow) carry one hash tag.
 *
 * - Single Redis (one shard): `<prefix>:<kind>:{<subject>}` for a subject, `<prefix>:dirty` etc. for the
 *   shared structures (the layout every single-Redis deployment already has).
 * - Redis Cluster (`shardCount` shards): `<prefix>:<kind>:{<shard tag>}<subject>` and
 *   `<prefix>:dirty:{<shard tag>}`; a subject belongs to the shard whose slot range holds its own slot, and
 *   each shard's tag hashes into that range (shard-tags.ts), so the shards spread over the masters as the
 *   slots do. Readers of the shared structures walk every shard.
 */
export interface SubjectKeys {
  /** Hash: counters, awards (`!code`), batch ring (`~b`, `~c`), outbox slot mask (`~p`), restore marker (`~`). */
  readonly state: string;
  /**
   * Hash: batch digest -> the subject's outcome of that batch (the apply outbox, lua/applyBatch-n.lua).
   * Its own key, not fields of `state`: its values pass the 64-byte listpack limit, which would turn the
   * state hash into a hashtable for good; it exists only while one of the ring's 16 batches awarded something.
   */
  readonly outbox: string;
  /** Zset: event ids seen -> time seen. */
  readonly eventIds: string;
  /** Hash: `f:<item>` free, `h:<item>` held. */
  readonly balances: string;
  /** Hash: hold id -> encoded hold. */
  readonly holds: string;
  /** Zset: hold id -> time it is due (expiry while held, forgetting once settled). */
  readonly holdTimers: string;
  /** Hash: the subject's history rollups and status (lua/includes/history.lua). */
  readonly history: string;
  /** List: rollups appended by applies, not folded into `history` yet. */
  readonly historyLog: string;
}

/** The shared structures of one shard; every subject of the shard changes them in its own scripts. */
export interface ShardKeys {
  readonly index: number;
  /** Set: subjects changed since their last snapshot. */
  readonly dirty: string;
  /** Zset: hold id -> expiry, for the expiry job. */
  readonly holdExpiryIndex: string;
  /** Hash: `r:<code>` players who reached a milestone, `c:<code>` who claimed it (summed over shards). */
  readonly milestoneStats: string;
  /**
   * Hash: rarity counts per UTC day (`a:<day36>` players last active that day, `<day36>:<code>` of them
   * holding an award; lua/includes/rarity.lua), summed over shards.
   */
  readonly rarity: string;
  /** Hash: transfer key -> a cross-shard transfer's escrow, while its saga runs (transfer-saga.ts). */
  readonly escrow: string;
}

export interface RedisKeys {
  readonly prefix: string;
  /** 1 on a single Redis; the Cluster layout's shard count otherwise. */
  readonly shardCount: number;
  /** Hash: counter set id -> its counter ids (comma-separated), as the engine registered them. */
  readonly counterSets: string;
  /** String: the layout this prefix's data was written in (`shards=<n>`), checked at start on a Cluster. */
  readonly layout: string;
  /** SCAN pattern of every subject's history hash, and the subject a matched key names. */
  readonly historyPattern: string;
  subjectOfHistoryKey(key: string): string;
  subject(subject: string): SubjectKeys;
  shardOf(subject: string): ShardKeys;
  shard(index: number): ShardKeys;
  /** Idempotency record of a key, scoped to the subject the request names first. */
  idempotency(subject: string, idempotencyKey: string): string;
  /** SCAN pattern of every idempotency record of one subject. */
  idempotencyPattern(subject: string): string;
  /** The outcome of one cross-shard transfer saga's credit, on the receiver's shard (transferCredit). */
  transferCredit(to: string, sagaId: string): string;
  /** SCAN pattern of every credit outcome kept for one receiver. */
  transferCreditPattern(to: string): string;
}

/** One shard: today's single-Redis layout. More: the Cluster layout with that many shards. */
export function createRedisKeys(prefix: string, shardCount = 1): RedisKeys {
  return shardCount === 1 ? singleLayout(prefix) : clusterLayout(prefix, shardCount);
}

function singleLayout(prefix: string): RedisKeys {
  const shard: ShardKeys = {
    index: 0,
    dirty: `${prefix}:dirty`,
    holdExpiryIndex: `${prefix}:holds-by-expiry`,
    milestoneStats: `${prefix}:milestone-stats`,
    rarity: `${prefix}:rarity`,
    escrow: `${prefix}:escrow`,
  };
  return {
    prefix,
    shardCount: 1,
    counterSets: `${prefix}:counter-sets`,
    layout: `${prefix}:layout`,
    // Glob characters of the prefix are escaped so the pattern matches it literally.
    historyPattern: `${globEscaped(prefix)}:r:{*}`,
    subjectOfHistoryKey: (key) => key.slice(prefix.length + 4, -1),
    subject: (subject) => subjectKeys(prefix, `{${subject}}`),
    shardOf: () => shard,
    shard: () => shard,
    // The subject's length pins where it ends, so no (subject, key) pair can collide with another.
    idempotency: (subject, idempotencyKey) => `${prefix}:k:{${subject}}${subject.length}:${idempotencyKey}`,
    idempotencyPattern: (subject) => `${globEscaped(`${prefix}:k:{${subject}}${subject.length}:`)}*`,
    transferCredit: (to, sagaId) => `${prefix}:x:{${to}}${to.length}:${sagaId}`,
    transferCreditPattern: (to) => `${globEscaped(`${prefix}:x:{${to}}${to.length}:`)}*`,
  };
}

function clusterLayout(prefix: string, shardCount: number): RedisKeys {
  const tags = shardTags(shardCount);
  const shards: ShardKeys[] = tags.map((tag, index) => ({
    index,
    dirty: `${prefix}:dirty:{${tag}}`,
    holdExpiryIndex: `${prefix}:holds-by-expiry:{${tag}}`,
    milestoneStats: `${prefix}:milestone-stats:{${tag}}`,
    rarity: `${prefix}:rarity:{${tag}}`,
    escrow: `${prefix}:escrow:{${tag}}`,
  }));
  const shardOf = (subject: string): ShardKeys => shards[shardOfSlot(calculateSlot(subject), shardCount)] as ShardKeys;
  /** The subject after its shard's tag: `{<tag>}<subject>`. */
  const tagged = (subject: string): string => `{${tags[shardOf(subject).index]}}${subject}`;
  return {
    prefix,
    shardCount,
    counterSets: `${prefix}:counter-sets`,
    layout: `${prefix}:layout`,
    historyPattern: `${globEscaped(prefix)}:r:{*}*`,
    // A tag never holds "}", so the first one after the kind ends it.
    subjectOfHistoryKey: (key) => key.slice(key.indexOf("}", prefix.length + 4) + 1),
    subject: (subject) => subjectKeys(prefix, tagged(subject)),
    shardOf,
    shard: (index) => shards[index] as ShardKeys,
    idempotency: (subject, idempotencyKey) => `${prefix}:k:${tagged(subject)}${subject.length}:${idempotencyKey}`,
    idempotencyPattern: (subject) => `${globEscaped(`${prefix}:k:${tagged(subject)}${subject.length}:`)}*`,
    transferCredit: (to, sagaId) => `${prefix}:x:${tagged(to)}${to.length}:${sagaId}`,
    transferCreditPattern: (to) => `${globEscaped(`${prefix}:x:${tagged(to)}${to.length}:`)}*`,
  };
}

function subjectKeys(prefix: string, tagged: string): SubjectKeys {
  return {
    state: `${prefix}:s:${tagged}`,
    outbox: `${prefix}:o:${tagged}`,
    eventIds: `${prefix}:e:${tagged}`,
    balances: `${prefix}:l:${tagged}`,
    holds: `${prefix}:h:${tagged}`,
    holdTimers: `${prefix}:t:${tagged}`,
    history: `${prefix}:r:${tagged}`,
    historyLog: `${prefix}:rl:${tagged}`,
  };
}

/** `text` as a SCAN pattern that matches it literally. */
function globEscaped(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}
