import { randomUUID } from "node:crypto";
import { LocalPresence } from "@colyseus/core";
import type { Progression } from "../src/engine/progression.ts";
import type { ProgressUpdate } from "../src/model/progress.ts";
import type { UnlockPayload } from "../src/model/unlock-payload.ts";
import { PushMessage, type UnlockedMessage } from "./client-messages.ts";
import type { HostErrorReport, PushPresence } from "./progression-host-options.ts";
import { isEmptyPush, lastProgressPerCode, type SubjectPush } from "./subject-push.ts";

/** Where pushes for one connected client go: its locale, and how to send to it (if still connected). */
export interface PushTarget {
  readonly locale: string;
  send(type: string, payload: unknown): void;
}

/** What crosses processes: every push of one event-loop turn in one message, tagged with its origin. */
interface PushEnvelope {
  readonly origin: string;
  readonly pushes: readonly SubjectPush[];
}

/** One topic for the whole cluster: one publish per flush, not one per player. */
const PUSH_TOPIC = "progression:pushes";

export interface PushFanoutOptions {
  /** Read when needed: the Colyseus server's presence exists only once the server is set up. */
  readonly presence: () => PushPresence;
  /** 0: progress goes out with every flush; otherwise at most this often per player. */
  readonly progressIntervalMs: number;
  readonly onError: (report: HostErrorReport) => void;
}

/**
 * Turns subject pushes into client messages: to this process's clients at once (texts in each
 * client's locale), and, with a cross-process presence such as RedisPresence, to every other process
 * in one message per event-loop turn (each delivers to its own clients). In-process presence reaches
 * nobody else, so nothing is published then.
 */
export class PushFanout {
  private readonly progression: Progression;
  private readonly options: PushFanoutOptions;
  /** Connected clients of this process, by subject. */
  private readonly targetsBySubject = new Map<string, Set<PushTarget>>();
  private readonly processId = randomUUID();
  private remoteSubscription: Promise<unknown> | null = null;
  /** Pushes for other processes, sent together at the end of the event-loop turn. */
  private remoteQueue: SubjectPush[] = [];
  private remoteScheduled = false;
  /** Progress waiting for the next progress tick, by subject and code. */
  private heldProgress = new Map<string, Map<string, ProgressUpdate>>();
  private readonly progressTimer: NodeJS.Timeout | undefined;

  private readonly onRemotePushes = (envelope: PushEnvelope): void => {
    if (envelope.origin === this.processId) return; // delivered locally already
    for (const push of envelope.pushes) this.deliver(push);
  };

  constructor(progression: Progression, options: PushFanoutOptions) {
    this.progression = progression;
    this.options = options;
    if (options.progressIntervalMs > 0) {
      this.progressTimer = setInterval(() => this.sendHeldProgress(), options.progressIntervalMs);
      this.progressTimer.unref();
    }
  }

  async attach(subject: string, target: PushTarget): Promise<() => void> {
    let targets = this.targetsBySubject.get(subject);
    if (targets === undefined) {
      targets = new Set();
      this.targetsBySubject.set(subject, targets);
    }
    targets.add(target);
    if (this.isCrossProcess()) {
      this.remoteSubscription ??= Promise.resolve(this.options.presence().subscribe(PUSH_TOPIC, this.onRemotePushes));
      await this.remoteSubscription;
    }
    return () => {
      const current = this.targetsBySubject.get(subject);
      current?.delete(target);
      if (current?.size === 0) this.targetsBySubject.delete(subject);
    };
  }

  publishAll(pushes: readonly SubjectPush[]): void {
    const nonEmpty = pushes.filter((push) => !isEmptyPush(push));
    if (nonEmpty.length === 0) return;
    for (const push of nonEmpty) this.deliver(push);
    if (!this.isCrossProcess()) return;
    // Everything published during one turn of the event loop (a flush, a burst of ledger calls)
    // leaves as one message: per-mutation publishes cost more than the mutations themselves.
    for (const push of nonEmpty) this.remoteQueue.push(push);
    if (!this.remoteScheduled) {
      this.remoteScheduled = true;
      setImmediate(() => this.publishRemoteQueue());
    }
  }

  /** Sends what is held, stops the progress timer and leaves the cluster topic (resolves once it has). */
  async close(): Promise<void> {
    if (this.progressTimer !== undefined) clearInterval(this.progressTimer);
    this.sendHeldProgress();
    this.publishRemoteQueue();
    this.targetsBySubject.clear();
    if (this.remoteSubscription === null) return;
    try {
      await this.options.presence().unsubscribe(PUSH_TOPIC, this.onRemotePushes);
    } catch (error) {
      this.options.onError({ stage: "push", error });
    }
  }

  private isCrossProcess(): boolean {
    return !(this.options.presence() instanceof LocalPresence);
  }

  private publishRemoteQueue(): void {
    this.remoteScheduled = false;
    if (this.remoteQueue.length === 0) return;
    const envelope: PushEnvelope = { origin: this.processId, pushes: this.remoteQueue };
    this.remoteQueue = [];
    try {
      void Promise.resolve(this.options.presence().publish(PUSH_TOPIC, envelope)).catch((error: unknown) =>
        this.options.onError({ stage: "push", error }),
      );
    } catch (error) {
      this.options.onError({ stage: "push", error });
    }
  }

  private deliver(push: SubjectPush): void {
    const targets = this.targetsBySubject.get(push.subject);
    if (targets === undefined) return;
    const unlocksByLocale = new Map<string, UnlockedMessage[]>();
    const progress = this.progressToSendNow(push);
    for (const target of targets) {
      try {
        for (const unlock of this.unlocksIn(push, target.locale, unlocksByLocale)) {
          target.send(PushMessage.Unlocked, unlock);
        }
        for (const update of progress) target.send(PushMessage.Progress, update);
        if (push.inventory.length > 0) target.send(PushMessage.Inventory, { balances: push.inventory });
        for (const hold of push.expiredHolds) {
          target.send(PushMessage.HoldExpired, {
            holdId: hold.holdId,
            item: hold.item,
            quantity: hold.quantity,
            expiresAt: hold.expiresAt,
          });
        }
      } catch (error) {
        this.options.onError({ stage: "push", error });
      }
    }
  }

  /**
   * With `progressIntervalMs` 0, this flush's progress goes out now. Otherwise it is held (the latest
   * value per milestone wins) and sent by the progress timer; a milestone reached now drops its held
   * progress, so no stale progress push ever follows its unlock.
   */
  private progressToSendNow(push: SubjectPush): readonly ProgressUpdate[] {
    const latest = lastProgressPerCode(push.progress);
    if (this.options.progressIntervalMs === 0) return latest;
    let held = this.heldProgress.get(push.subject);
    if (held === undefined) {
      if (latest.length === 0) return [];
      held = new Map();
      this.heldProgress.set(push.subject, held);
    }
    for (const award of push.reached) held.delete(award.code);
    for (const update of latest) held.set(update.code, update);
    if (held.size === 0) this.heldProgress.delete(push.subject);
    return [];
  }

  private sendHeldProgress(): void {
    if (this.heldProgress.size === 0) return;
    const held = this.heldProgress;
    this.heldProgress = new Map();
    for (const [subject, updates] of held) {
      const targets = this.targetsBySubject.get(subject);
      if (targets === undefined) continue;
      for (const target of targets) {
        try {
          for (const update of updates.values()) target.send(PushMessage.Progress, update);
        } catch (error) {
          this.options.onError({ stage: "push", error });
        }
      }
    }
  }

  private unlocksIn(push: SubjectPush, locale: string, cache: Map<string, UnlockedMessage[]>): UnlockedMessage[] {
    const cached = cache.get(locale);
    if (cached !== undefined) return cached;
    const messages = push.reached.map((award) => unlockMessage(this.progression.describeUnlock(push.subject, award, locale)));
    cache.set(locale, messages);
    return messages;
  }
}

function unlockMessage(unlock: UnlockPayload): UnlockedMessage {
  return {
    code: unlock.code,
    title: unlock.title,
    description: unlock.description,
    icon: unlock.icon,
    animation: unlock.animation,
    earnedAt: unlock.earnedAt,
    retroactive: unlock.retroactive,
    rewards: unlock.rewards,
    claimed: unlock.claimed,
  };
}
