import { randomUUID } from "node:crypto";
import { LocalPresence } from "@colyseus/core";
import type { PushPresence } from "../../plugins/progression-host-options.ts";
import { PushFanout, type PushTarget } from "../../plugins/push-fanout.ts";
import type { SubjectPush } from "../../plugins/subject-push.ts";
import type { Progression } from "../../src/engine/progression.ts";

interface TopicEnvelope {
  readonly origin: string;
  readonly pushes: readonly SubjectPush[];
}

/**
 * The routing PushFanout had before per-subject channels, kept for the push-routing benchmark only: every
 * push of an event-loop turn in one message on one cluster topic that every process subscribes to (and
 * parses), whether or not it has the subjects' clients. Delivery to clients is PushFanout's own.
 */
export class SingleTopicFanout {
  private readonly local: PushFanout;
  private readonly presence: PushPresence;
  private readonly topic: string;
  private readonly processId = randomUUID();
  private subscription: Promise<unknown> | null = null;
  private queue: SubjectPush[] = [];
  private scheduled = false;

  private readonly onEnvelope = (envelope: TopicEnvelope): void => {
    if (envelope.origin === this.processId) return;
    this.local.publishAll(envelope.pushes);
  };

  constructor(progression: Progression, presence: PushPresence, topic: string) {
    const inProcess = new LocalPresence();
    this.local = new PushFanout(progression, { presence: () => inProcess, progressIntervalMs: 0, onError: () => {} });
    this.presence = presence;
    this.topic = topic;
  }

  async attach(subject: string, target: PushTarget): Promise<() => void> {
    this.subscription ??= Promise.resolve(this.presence.subscribe(this.topic, this.onEnvelope));
    await this.subscription;
    return this.local.attach(subject, target);
  }

  publishAll(pushes: readonly SubjectPush[]): void {
    this.local.publishAll(pushes);
    this.queue.push(...pushes);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.publishQueue());
  }

  published(): Promise<void> {
    this.publishQueue();
    return Promise.resolve();
  }

  async close(): Promise<void> {
    this.publishQueue();
    await this.local.close();
    if (this.subscription !== null) await this.presence.unsubscribe(this.topic, this.onEnvelope);
  }

  private publishQueue(): void {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    const envelope: TopicEnvelope = { origin: this.processId, pushes: this.queue };
    this.queue = [];
    void Promise.resolve(this.presence.publish(this.topic, envelope));
  }
}
