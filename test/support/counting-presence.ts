import type { PushPresence } from "../../plugins/progression-host-options.ts";

/** What one process's presence did: publishes and registry commands sent, messages its subscriptions received. */
export interface PresenceCounts {
  publishes: number;
  /** Bytes of the published messages, as RedisPresence serializes them (JSON). */
  publishedBytes: number;
  received: number;
  receivedBytes: number;
  /** Every other command (subscribe, sadd, lpop, ...), by name. */
  commands: Record<string, number>;
  /** The published messages, in order (only when `keepMessages`). */
  readonly published: { topic: string; data: unknown }[];
}

/**
 * Wraps a real presence (e.g. RedisPresence) to count what crosses processes through it; everything is
 * still sent and received by the wrapped presence.
 */
export function countingPresence(presence: PushPresence, keepMessages = false): { presence: PushPresence; counts: PresenceCounts } {
  const counts: PresenceCounts = { publishes: 0, publishedBytes: 0, received: 0, receivedBytes: 0, commands: {}, published: [] };
  const count = (name: string): void => {
    counts.commands[name] = (counts.commands[name] ?? 0) + 1;
  };
  // One wrapper per callback, so unsubscribe(topic, callback) removes what subscribe added.
  const wrappers = new Map<unknown, (data: unknown) => void>();
  const wrapperOf = (callback: (data: unknown) => void): ((data: unknown) => void) => {
    let wrapper = wrappers.get(callback);
    if (wrapper === undefined) {
      wrapper = (data: unknown): void => {
        counts.received += 1;
        counts.receivedBytes += JSON.stringify(data).length;
        callback(data);
      };
      wrappers.set(callback, wrapper);
    }
    return wrapper;
  };
  const counted: PushPresence = {
    subscribe: (topic, callback) => {
      count("subscribe");
      return presence.subscribe(topic, wrapperOf(callback as (data: unknown) => void));
    },
    unsubscribe: (topic, callback) => {
      count("unsubscribe");
      return presence.unsubscribe(topic, callback === undefined ? undefined : wrapperOf(callback as (data: unknown) => void));
    },
    publish: (topic, data) => {
      counts.publishes += 1;
      counts.publishedBytes += JSON.stringify(data).length;
      if (keepMessages) counts.published.push({ topic, data: data as unknown });
      return presence.publish(topic, data);
    },
    sadd: (key, value) => {
      count("sadd");
      return presence.sadd(key, value);
    },
    srem: (key, value) => {
      count("srem");
      return presence.srem(key, value);
    },
    smembers: (key) => {
      count("smembers");
      return presence.smembers(key);
    },
    rpush: (key, ...values) => {
      count("rpush");
      return presence.rpush(key, ...values);
    },
    lpop: (key) => {
      count("lpop");
      return presence.lpop(key);
    },
    del: (key) => {
      count("del");
      return presence.del(key);
    },
  };
  return { presence: counted, counts };
}
