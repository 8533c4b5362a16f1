/**
 * Every key the backend touches, built in one place: `<prefix>:<kind>:{<subject>}`. Per-subject keys
 * carry the subject as hash tag (`{subject}`), so each per-subject script stays on one Redis Cluster slot. The dirty set and the
 * global hold expiry index are single keys (fine on a single Redis; see docs/semantics.md).
 */
export interface SubjectKeys {
  /** Hash: counters, awards (`!code`), batch ring (`~b`, `~c`), restore marker (`~`). */
  readonly state: string;
  /** Zset: event ids seen -> time seen. */
  readonly eventIds: string;
  /** Hash: `f:<item>` free, `h:<item>` held. */
  readonly balances: string;
  /** Hash: hold id -> encoded hold. */
  readonly holds: string;
  /** Zset: hold id -> time it is due (expiry while held, forgetting once settled). */
  readonly holdTimers: string;
}

export interface RedisKeys {
  readonly prefix: string;
  readonly dirty: string;
  readonly holdExpiryIndex: string;
  subject(subject: string): SubjectKeys;
  /** Idempotency record of a key, scoped to the subject the request names first. */
  idempotency(subject: string, idempotencyKey: string): string;
}

export function createRedisKeys(prefix: string): RedisKeys {
  return {
    prefix,
    dirty: `${prefix}:dirty`,
    holdExpiryIndex: `${prefix}:holds-by-expiry`,
    subject(subject) {
      const tag = `{${subject}}`;
      return {
        state: `${prefix}:s:${tag}`,
        eventIds: `${prefix}:e:${tag}`,
        balances: `${prefix}:l:${tag}`,
        holds: `${prefix}:h:${tag}`,
        holdTimers: `${prefix}:t:${tag}`,
      };
    },
    idempotency(subject, idempotencyKey) {
      // The subject's length pins where it ends, so no (subject, key) pair can collide with another.
      return `${prefix}:k:{${subject}}${subject.length}:${idempotencyKey}`;
    },
  };
}
