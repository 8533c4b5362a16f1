import { LocalPresence } from "@colyseus/core";
import type { Progression } from "../src/engine/progression.ts";
import type { ProgressUpdate } from "../src/model/progress.ts";
import { PushMessage, type HoldExpiredMessage, type InventoryMessage, type PreviewMessage, type RejectionReason, type UnlockedMessage } from "../src/protocol/client-messages.ts";
import { holdViewOf } from "./hold-view.ts";
import type { HostErrorReport, PushPresence } from "./progression-host-options.ts";
import { PushRouting, type SubjectEnvelope } from "./push-routing.ts";
import { isEmptyPush, lastProgressPerCode, type PreviewPush, type RejectionPush, type SubjectPush } from "./subject-push.ts";
import { previewMessageOf, unlockMessageOf } from "./unlock-message.ts";

export type { PreviewPush, RejectionPush } from "./subject-push.ts";

/** Where pushes for one connected client go: its locale, and how to send to it (if still connected). */
export interface PushTarget {
  readonly locale: string;
  send(type: string, payload: unknown): void;
  /**
   * Runs `write` (several `send`s) so that they leave in one socket write (the plugin corks the client's
   * socket): a flush's unlocks, progress and inventory for one client are one syscall, not one per message.
   */
  corked?(write: () => void): void;
}

/** A subject with clients connected to this process, and their locales. */
export interface ConnectedSubject {
  readonly subject: string;
  readonly clients: number;
  /** The distinct locales of its clients, sorted. */
  readonly locales: readonly string[];
}

/** The default prefix of the per-subject channels and registry keys (see PushRouting). */
const PUSH_TOPIC = "progression:pushes";

export interface PushFanoutOptions {
  /** Read when needed: the Colyseus server's presence exists only once the server is set up. */
  readonly presence: () => PushPresence;
  /** 0: progress goes out with every flush; otherwise at most this often per player. */
  readonly progressIntervalMs: number;
  readonly onError: (report: HostErrorReport) => void;
  /**
   * Prefix of the per-subject channels and registry keys in presence; processes that share pushes use the same.
   * @default "progression:pushes"
   */
  readonly topic?: string;
}

/**
 * Turns subject pushes into client messages: to this process's clients at once (texts in each client's
 * locale), and, with a cross-process presence such as RedisPresence, to the other processes that have
 * clients of the same subject (PushRouting: one publish per subject and event-loop turn, on the subject's
 * own channel, none when no other process has its clients). Admin previews and rejections travel the same
 * way. In-process presence reaches nobody else, so nothing is published then.
 */
export class PushFanout {
  private readonly progression: Progression;
  private readonly options: PushFanoutOptions;
  /** Connected clients of this process, by subject. */
  private readonly targetsBySubject = new Map<string, Set<PushTarget>>();
  private readonly routing: PushRouting;
  /** Progress waiting for the next progress tick, by subject and code. */
  private heldProgress = new Map<string, Map<string, ProgressUpdate>>();
  private readonly progressTimer: NodeJS.Timeout | undefined;

  constructor(progression: Progression, options: PushFanoutOptions) {
    this.progression = progression;
    this.options = options;
    this.routing = new PushRouting({
      presence: options.presence,
      topic: options.topic ?? PUSH_TOPIC,
      hasClients: (subject) => this.targetsBySubject.has(subject),
      deliver: (envelope) => this.deliverEnvelope(envelope),
      onError: options.onError,
    });
    if (options.progressIntervalMs > 0) {
      this.progressTimer = setInterval(() => this.sendHeldProgress(), options.progressIntervalMs);
      this.progressTimer.unref();
    }
  }

  /**
   * Starts delivering `subject`'s pushes to `target`. With a cross-process presence it resolves once this
   * process hears the subject's channel and the processes that send to it know so: every push sent after
   * it resolved (e.g. for a change the snapshot read next does not show yet) reaches `target`.
   */
  async attach(subject: string, target: PushTarget): Promise<() => void> {
    let targets = this.targetsBySubject.get(subject);
    if (targets === undefined) {
      targets = new Set();
      this.targetsBySubject.set(subject, targets);
    }
    targets.add(target);
    let attached = true;
    const detach = (): void => {
      if (!attached) return;
      attached = false;
      const current = this.targetsBySubject.get(subject);
      current?.delete(target);
      if (current?.size !== 0) return;
      this.targetsBySubject.delete(subject);
      if (this.isCrossProcess()) void this.routing.sync(subject).catch((error: unknown) => this.options.onError({ stage: "push", error }));
    };
    if (this.isCrossProcess()) {
      try {
        await this.routing.sync(subject);
      } catch (error) {
        detach();
        throw error;
      }
    }
    return detach;
  }

  publishAll(pushes: readonly SubjectPush[]): void {
    const nonEmpty = pushes.filter((push) => !isEmptyPush(push));
    if (nonEmpty.length === 0) return;
    for (const push of nonEmpty) this.deliver(push);
    if (!this.isCrossProcess()) return;
    for (const push of nonEmpty) this.routing.sendPush(push);
  }

  /**
   * Sends how `code`'s unlock looks, marked as a preview, to every client of `subject`: in this process
   * now, in the other ones with its clients through presence. Nothing is stored or counted. Throws
   * UNKNOWN_MILESTONE (and sends nothing) for a code the engine does not have. Returns how many clients it
   * reached here.
   */
  preview(subject: string, code: string, locale?: string): number {
    // Resolved once up front: an unknown code fails here, before anything is sent anywhere.
    const at = this.progression.preview(code, locale).earnedAt;
    const preview: PreviewPush = { subject, code, at, ...(locale === undefined ? {} : { locale }) };
    const reached = this.deliverPreview(preview);
    if (this.isCrossProcess()) this.routing.sendPreview(preview);
    return reached;
  }

  /**
   * Sends `progression:rejected` with `reason` to every client of `subject`: in this process now, in the
   * other ones with its clients through presence. Returns how many clients it reached here.
   */
  reject(subject: string, reason: RejectionReason): number {
    const rejection: RejectionPush = { subject, reason };
    const reached = this.deliverRejection(rejection);
    if (this.isCrossProcess()) this.routing.sendRejection(rejection);
    return reached;
  }

  /** Resolves once everything sent so far has been published to the other processes that need it. */
  async published(): Promise<void> {
    if (this.isCrossProcess()) await this.routing.published();
  }

  /** The subjects with clients in this process, by subject id. */
  connectedSubjects(): readonly ConnectedSubject[] {
    return [...this.targetsBySubject]
      .map(([subject, targets]) => ({ subject, clients: targets.size, locales: [...new Set([...targets].map((target) => target.locale))].sort() }))
      .sort((a, b) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0));
  }

  /** Sends what is held, stops the progress timer and leaves every subject's channel (resolves once it has). */
  async close(): Promise<void> {
    if (this.progressTimer !== undefined) clearInterval(this.progressTimer);
    this.sendHeldProgress();
    const crossProcess = this.isCrossProcess();
    try {
      if (crossProcess) await this.routing.close();
    } finally {
      this.targetsBySubject.clear();
    }
  }

  private isCrossProcess(): boolean {
    return !(this.options.presence() instanceof LocalPresence);
  }

  /** What another process sent for a subject with clients here. */
  private deliverEnvelope(envelope: SubjectEnvelope): void {
    for (const push of envelope.pushes ?? []) this.deliver(push);
    for (const preview of envelope.previews ?? []) this.deliverPreview(preview);
    for (const rejection of envelope.rejections ?? []) this.deliverRejection(rejection);
  }

  private deliver(push: SubjectPush): void {
    const targets = this.targetsBySubject.get(push.subject);
    if (targets === undefined) return;
    const unlocksByLocale = new Map<string, UnlockedMessage[]>();
    const progress = this.progressToSendNow(push);
    // Built once per push, whatever the number of the player's clients.
    const inventory = push.inventory.length > 0 || push.holds.length > 0 ? inventoryMessageOf(push) : undefined;
    const expired: HoldExpiredMessage[] = push.expiredHolds.map(({ holdId, item, quantity, expiresAt }) => ({ holdId, item, quantity, expiresAt }));
    for (const target of targets) {
      const write = (): void => {
        for (const unlock of this.unlocksIn(push, target.locale, unlocksByLocale)) {
          target.send(PushMessage.Unlocked, unlock);
        }
        for (const update of progress) target.send(PushMessage.Progress, update);
        if (inventory !== undefined) target.send(PushMessage.Inventory, inventory);
        for (const hold of expired) target.send(PushMessage.HoldExpired, hold);
      };
      try {
        if (target.corked === undefined) write();
        else target.corked(write);
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
        const write = (): void => {
          for (const update of updates.values()) target.send(PushMessage.Progress, update);
        };
        try {
          if (target.corked === undefined || updates.size === 1) write();
          else target.corked(write);
        } catch (error) {
          this.options.onError({ stage: "push", error });
        }
      }
    }
  }

  /** Returns how many clients of this process it reached. */
  private deliverPreview(preview: PreviewPush): number {
    const targets = this.targetsBySubject.get(preview.subject);
    if (targets === undefined) return 0;
    const byLocale = new Map<string, PreviewMessage>();
    let reached = 0;
    for (const target of targets) {
      try {
        const locale = preview.locale ?? target.locale;
        let message = byLocale.get(locale);
        if (message === undefined) {
          message = previewMessageOf(this.progression.preview(preview.code, locale), preview.at);
          byLocale.set(locale, message);
        }
        target.send(PushMessage.Preview, message);
        reached += 1;
      } catch (error) {
        // E.g. a process still on older definitions that lack the code: its clients miss this preview.
        this.options.onError({ stage: "push", error });
      }
    }
    return reached;
  }

  /** Returns how many clients of this process it reached. */
  private deliverRejection(rejection: RejectionPush): number {
    const targets = this.targetsBySubject.get(rejection.subject);
    if (targets === undefined) return 0;
    let reached = 0;
    for (const target of targets) {
      try {
        target.send(PushMessage.Rejected, rejection.reason);
        reached += 1;
      } catch (error) {
        this.options.onError({ stage: "push", error });
      }
    }
    return reached;
  }

  private unlocksIn(push: SubjectPush, locale: string, cache: Map<string, UnlockedMessage[]>): UnlockedMessage[] {
    const cached = cache.get(locale);
    if (cached !== undefined) return cached;
    const messages = push.reached.map((award) => unlockMessageOf(this.progression.describeUnlock(push.subject, award, locale)));
    cache.set(locale, messages);
    return messages;
  }
}

function inventoryMessageOf(push: SubjectPush): InventoryMessage {
  return push.holds.length === 0 ? { balances: push.inventory } : { balances: push.inventory, holds: push.holds.map(holdViewOf) };
}
