import { randomUUID } from "node:crypto";
import type { DomainEventBus, DomainListener } from "./domain-event-bus.ts";
import type { DomainEnvelope, DomainTopic, DomainTopics } from "./domain-topics.ts";

export interface ListenerFailure {
  readonly listenerName: string;
  readonly envelope: DomainEnvelope;
  readonly error: unknown;
}

export interface InProcessEventBusOptions {
  /** Deliveries per listener before giving up. Default: 3. */
  maxAttempts?: number;
  /** Delay before the first retry; doubles each time. Default: 50 ms. */
  backoffMs?: number;
  /** Called once per listener that failed its last attempt. Default: logs to console.error. */
  onFailure?: (failure: ListenerFailure) => void;
}

interface Registration {
  readonly name: string;
  readonly listener: DomainListener<DomainTopic>;
}

/**
 * Embedded-mode dispatch: listeners run in this process after the emitting call returns, each with
 * its own retries, so one slow or failing listener never blocks another or the game loop. Failures
 * after the last attempt are reported through `onFailure` and kept in `failures`.
 */
export class InProcessEventBus implements DomainEventBus {
  readonly failures: ListenerFailure[] = [];
  private readonly listeners = new Map<DomainTopic, Registration[]>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly maxAttempts: number;
  private readonly backoffMs: number;
  private readonly onFailure: (failure: ListenerFailure) => void;

  constructor(options: InProcessEventBusOptions = {}) {
    this.maxAttempts = options.maxAttempts ?? 3;
    this.backoffMs = options.backoffMs ?? 50;
    this.onFailure =
      options.onFailure ??
      ((failure) => console.error(`[progression] listener ${failure.listenerName} failed on ${failure.envelope.topic} ${failure.envelope.id}:`, failure.error));
  }

  on<T extends DomainTopic>(topic: T, listenerName: string, listener: DomainListener<T>): () => void {
    const registrations = this.listeners.get(topic) ?? [];
    const registration: Registration = { name: listenerName, listener: listener as unknown as DomainListener<DomainTopic> };
    registrations.push(registration);
    this.listeners.set(topic, registrations);
    return () => {
      const list = this.listeners.get(topic);
      if (list) list.splice(list.indexOf(registration), 1);
    };
  }

  emit<T extends DomainTopic>(topic: T, idempotencyKey: string, payload: DomainTopics[T], occurredAt: number): void {
    const registrations = this.listeners.get(topic);
    if (registrations === undefined || registrations.length === 0) return;
    const id = randomUUID();
    for (const registration of [...registrations]) {
      const delivery = this.deliver(registration, { id, topic, idempotencyKey, occurredAt, attempt: 1, payload } as DomainEnvelope);
      this.inFlight.add(delivery);
      void delivery.finally(() => this.inFlight.delete(delivery));
    }
  }

  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  async close(): Promise<void> {
    await this.drain();
    this.listeners.clear();
  }

  private async deliver(registration: Registration, first: DomainEnvelope): Promise<void> {
    await Promise.resolve(); // after the emitter's call returns
    for (let attempt = 1; ; attempt += 1) {
      const envelope = { ...first, attempt };
      try {
        await registration.listener(envelope);
        return;
      } catch (error) {
        if (attempt >= this.maxAttempts) {
          const failure = { listenerName: registration.name, envelope, error };
          this.failures.push(failure);
          this.onFailure(failure);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, this.backoffMs * 2 ** (attempt - 1)));
      }
    }
  }
}
