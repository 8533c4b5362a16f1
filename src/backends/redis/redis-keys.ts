/**
 * Every key the backend touches, built in one place: `<prefix>:<kind>:{<subject>}`. Per-subject keys
 * carry the subject as hash tag (`{subject}`), so each per-subject script stays on one Redis Cluster slot. The dirty set, the
 * global hold expiry index and the milestone stats are single keys (fine on a single Redis; see docs/semantics.md).
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

export interface RedisKeys {
  readonly prefix: string;
  readonly dirty: string;
  /**
   * Hash: `r:<code>` players who reached a milestone, `c:<code>` who claimed it, changed by the scripts
   * that award, claim and erase. Global like the dirty set: scale-out (Cluster) shards it as it shards the dirty set.
   */
  readonly milestoneStats: string;
  /**
   * Hash: rarity counts per UTC day (`a:<day36>` players last active that day, `<day36>:<code>` of them
   * holding an award; lua/includes/rarity.lua), changed by the apply, seed and erase. Global like the stats.
   */
  readonly rarity: string;
  readonly holdExpiryIndex: string;
  /** Hash: counter set id -> its counter ids (comma-separated), as the engine registered them. */
  readonly counterSets: string;
  /** SCAN pattern of every subject's history hash, and the subject a matched key names. */
  readonly historyPattern: string;
  subjectOfHistoryKey(key: string): string;
  subject(subject: string): SubjectKeys;
  /** Idempotency record of a key, scoped to the subject the request names first. */
  idempotency(subject: string, idempotencyKey: string): string;
  /** SCAN pattern of every idempotency record of one subject. */
  idempotencyPattern(subject: string): string;
}

export function createRedisKeys(prefix: string): RedisKeys {
  return {
    prefix,
    dirty: `${prefix}:dirty`,
    milestoneStats: `${prefix}:milestone-stats`,
    rarity: `${prefix}:rarity`,
    holdExpiryIndex: `${prefix}:holds-by-expiry`,
    counterSets: `${prefix}:counter-sets`,
    // Glob characters of the prefix are escaped so the pattern matches it literally.
    historyPattern: `${globEscaped(prefix)}:r:{*}`,
    subjectOfHistoryKey: (key) => key.slice(prefix.length + 4, -1),
    subject(subject) {
      const tag = `{${subject}}`;
      return {
        state: `${prefix}:s:${tag}`,
        outbox: `${prefix}:o:${tag}`,
        eventIds: `${prefix}:e:${tag}`,
        balances: `${prefix}:l:${tag}`,
        holds: `${prefix}:h:${tag}`,
        holdTimers: `${prefix}:t:${tag}`,
        history: `${prefix}:r:${tag}`,
        historyLog: `${prefix}:rl:${tag}`,
      };
    },
    idempotency(subject, idempotencyKey) {
      // The subject's length pins where it ends, so no (subject, key) pair can collide with another.
      return `${prefix}:k:{${subject}}${subject.length}:${idempotencyKey}`;
    },
    idempotencyPattern: (subject) => `${globEscaped(`${prefix}:k:{${subject}}${subject.length}:`)}*`,
  };
}

/** `text` as a SCAN pattern that matches it literally. */
function globEscaped(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}
