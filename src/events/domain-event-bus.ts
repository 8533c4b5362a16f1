import type { DomainEnvelope, DomainTopic, DomainTopics } from "./domain-topics.ts";

export type DomainListener<T extends DomainTopic> = (envelope: DomainEnvelope<T>) => void | Promise<void>;

/**
 * Typed publish/subscribe for domain events. The in-process bus dispatches after the emitting call
 * returns; the BullMQ bus (Redis mode) persists envelopes and runs listeners in workers with retries.
 * Either way a listener that throws is retried, and a final failure is reported, never dropped silently.
 */
export interface DomainEventBus {
  /** Registers a listener under a stable name (the name keys retries and failure reports). */
  on<T extends DomainTopic>(topic: T, listenerName: string, listener: DomainListener<T>): () => void;
  /** Publishes facts that have already happened (the state change is committed). */
  emit<T extends DomainTopic>(topic: T, idempotencyKey: string, payload: DomainTopics[T], occurredAt: number): void;
  /** Resolves once everything emitted so far has been delivered or finally failed. */
  drain(): Promise<void>;
  close(): Promise<void>;
}
