import { randomUUID } from "node:crypto";
import type { HostErrorReport, PushPresence } from "./progression-host-options.ts";
import type { PreviewPush, RejectionPush, SubjectPush } from "./subject-push.ts";

/**
 * What crosses processes: one subject's pushes, previews and rejections of one send, on that subject's
 * channel, tagged with the process that sent it (which receives its own copy back when it is subscribed).
 */
export interface SubjectEnvelope {
  readonly origin: string;
  readonly subject: string;
  readonly pushes?: readonly SubjectPush[];
  readonly previews?: readonly PreviewPush[];
  readonly rejections?: readonly RejectionPush[];
}

/** One subject's message waiting to cross processes; `seq` orders it against the registry's reads. */
type Outgoing =
  | { readonly seq: number; readonly subject: string; readonly push: SubjectPush }
  | { readonly seq: number; readonly subject: string; readonly preview: PreviewPush }
  | { readonly seq: number; readonly subject: string; readonly rejection: RejectionPush };

/**
 * This process's standing for one subject it has clients of. "joining": subscribing and registering;
 * "joined": registered, so every process that registers later tells this one through its inbox.
 */
interface Membership {
  state: "idle" | "joining" | "joined" | "leaving";
  /** Another process has (or had, at the last read) clients of the subject. */
  shared: boolean;
  /** The registry read `shared` comes from: a later read wins whatever order the answers come back in. */
  readTag: number;
  /** `shared` accounts for every message queued up to this sequence number (queued before that read was sent). */
  coveredThrough: number;
  /** Join and leave steps, one at a time. */
  steps: Promise<void>;
  pendingSteps: number;
}

export interface PushRoutingOptions {
  readonly presence: () => PushPresence;
  /** Channel and key prefix: `<topic>:subject:<id>` channels, `<topic>:holders:<id>` sets, `<topic>:inbox:<process>` lists. */
  readonly topic: string;
  /** Whether this process has clients of `subject` now. */
  readonly hasClients: (subject: string) => boolean;
  /** Delivers what another process sent to this process's clients of the envelope's subject. */
  readonly deliver: (envelope: SubjectEnvelope) => void;
  readonly onError: (report: HostErrorReport) => void;
}

/**
 * Routes a subject's pushes only to the processes that have its clients, through per-subject presence
 * channels: a process subscribes to `<topic>:subject:<id>` before its first client of that subject is
 * attached, and the sender publishes the subject's messages of a send there, so Redis' own subscriber set
 * decides who receives (never a copy that may be stale).
 *
 * The common case is a player whose only clients are on the process that records its events. Publishing
 * there would reach nobody else, so it is skipped, but only on an authoritative answer: each process with
 * clients of a subject is in the subject's holders set (`<topic>:holders:<id>`), and a process that joins
 * a subject, finding other holders there, leaves a notice in each one's inbox list BEFORE its attach
 * resolves. A sender reads its inbox (one LPOP, on the same send) after the change it pushes was
 * applied: a client whose snapshot missed the change attached before that, so its notice is already
 * there. A sender with no clients of a subject always publishes (a trade's other player, a grant).
 * Leaving notifies the others too, so they stop publishing what nobody else would receive.
 *
 * Why per-subject channels rather than a subject -> process registry with per-process inboxes: the
 * receivers are Redis' subscriber set at the moment of each publish, so no cached registry can miss a
 * process that just attached, and a sender needs no lookup at all; the registry here only lets a sole
 * holder skip publishing, on an answer read after the change. Messages per push stay flat as processes
 * are added (a per-process batch would grow with the processes a turn's players are spread over).
 * See docs/deployment.md, "Push routing".
 */
export class PushRouting {
  readonly processId = randomUUID();
  private readonly options: PushRoutingOptions;
  private readonly memberships = new Map<string, Membership>();
  private queue: Outgoing[] = [];
  private sequence = 0;
  private readTags = 0;
  /** Every message queued up to this sequence number was queued before an inbox read that found every notice. */
  private checkedThrough = 0;
  private scheduled = false;
  private draining: Promise<void> | null = null;
  private closing = false;

  private readonly onEnvelope = (envelope: SubjectEnvelope): void => {
    if (envelope.origin === this.processId) return; // delivered locally already
    this.options.deliver(envelope);
  };

  constructor(options: PushRoutingOptions) {
    this.options = options;
  }

  /**
   * Brings this process's subscription and registration for `subject` in line with whether it has clients
   * of it; resolves once every message sent to the subject from then on reaches this process.
   */
  sync(subject: string): Promise<void> {
    let membership = this.memberships.get(subject);
    if (membership === undefined) {
      membership = { state: "idle", shared: true, readTag: 0, coveredThrough: 0, steps: Promise.resolve(), pendingSteps: 0 };
      this.memberships.set(subject, membership);
    }
    const current = membership;
    current.pendingSteps += 1;
    const step = current.steps.then(() => this.step(subject, current));
    current.steps = step.catch(() => undefined);
    return step.finally(() => {
      current.pendingSteps -= 1;
      if (current.pendingSteps === 0 && current.state === "idle" && this.memberships.get(subject) === current) this.memberships.delete(subject);
    });
  }

  /** Queues `subject`'s push for the processes with its clients; sent at the end of the event-loop turn. */
  sendPush(push: SubjectPush): void {
    this.enqueue({ seq: ++this.sequence, subject: push.subject, push });
  }

  sendPreview(preview: PreviewPush): void {
    this.enqueue({ seq: ++this.sequence, subject: preview.subject, preview });
  }

  sendRejection(rejection: RejectionPush): void {
    this.enqueue({ seq: ++this.sequence, subject: rejection.subject, rejection });
  }

  /** Resolves once everything queued so far has been published (or found to have no other process to reach). */
  async published(): Promise<void> {
    while (this.queue.length > 0 || this.draining !== null) await this.drain();
  }

  /** Sends what is queued, then leaves every subject and removes this process's inbox. */
  async close(): Promise<void> {
    await this.published();
    this.closing = true;
    const leaving = [...this.memberships.keys()].map((subject) => this.sync(subject).catch((error: unknown) => this.options.onError({ stage: "push", error })));
    await Promise.all(leaving);
    try {
      await Promise.resolve(this.options.presence().del(this.inboxKey(this.processId)));
    } catch (error) {
      this.options.onError({ stage: "push", error });
    }
  }

  private async step(subject: string, membership: Membership): Promise<void> {
    const wanted = !this.closing && this.options.hasClients(subject);
    if (wanted && membership.state === "idle") await this.join(subject, membership);
    else if (!wanted && membership.state === "joined") await this.leave(subject, membership);
  }

  private async join(subject: string, membership: Membership): Promise<void> {
    const presence = this.options.presence();
    membership.state = "joining";
    membership.shared = true;
    try {
      // Both before attach resolves (so before the snapshot is read): the channel is heard, and every other
      // holder has a notice in its inbox, which it reads before skipping a publish of a later change.
      const register = async (): Promise<void> => {
        await presence.sadd(this.holdersKey(subject), this.processId);
        const others = await this.readHolders(subject, membership);
        await Promise.all(others.map((other) => presence.rpush(this.inboxKey(other), subject)));
      };
      const failed = (await Promise.allSettled([presence.subscribe(this.channel(subject), this.onEnvelope), register()])).find(
        (outcome) => outcome.status === "rejected",
      );
      if (failed !== undefined) throw failed.reason;
      membership.state = "joined";
    } catch (error) {
      membership.state = "idle";
      // Best effort: a registration left behind only makes the others publish what nobody here receives.
      await Promise.resolve(presence.srem(this.holdersKey(subject), this.processId)).catch(() => undefined);
      await Promise.resolve(presence.unsubscribe(this.channel(subject), this.onEnvelope)).catch(() => undefined);
      throw error;
    }
  }

  private async leave(subject: string, membership: Membership): Promise<void> {
    const presence = this.options.presence();
    membership.state = "leaving";
    try {
      await presence.srem(this.holdersKey(subject), this.processId);
      const others = (await presence.smembers(this.holdersKey(subject))).filter((other) => other !== this.processId);
      // The others re-read the holders and stop publishing what only they would receive.
      await Promise.all(others.map((other) => presence.rpush(this.inboxKey(other), subject)));
    } finally {
      // Whatever failed above: a later join must not add a second listener (each message delivered twice).
      try {
        await presence.unsubscribe(this.channel(subject), this.onEnvelope);
      } finally {
        membership.state = "idle";
      }
    }
  }

  /** Reads the subject's holders into `shared`; returns the other holders. */
  private async readHolders(subject: string, membership: Membership): Promise<string[]> {
    const tag = ++this.readTags;
    const covers = this.sequence;
    const others = (await this.options.presence().smembers(this.holdersKey(subject))).filter((other) => other !== this.processId);
    if (tag > membership.readTag) {
      membership.readTag = tag;
      membership.shared = others.length > 0;
      membership.coveredThrough = covers;
    }
    return others;
  }

  private enqueue(outgoing: Outgoing): void {
    this.queue.push(outgoing);
    if (this.scheduled) return;
    this.scheduled = true;
    // Everything sent during one turn of the event loop leaves together: one publish per subject.
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  /** One send at a time, in order: a subject's messages reach other processes in the order they were queued. */
  private drain(): Promise<void> {
    // `finally` runs a turn later: a drain that ends synchronously cannot leave a stale promise behind.
    this.draining ??= this.drainQueue().finally(() => {
      this.draining = null;
    });
    return this.draining;
  }

  private async drainQueue(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      if (batch.some((outgoing) => this.mayStayHere(outgoing.subject) && !this.covered(outgoing))) await this.readInbox();
      this.publish(batch);
    }
  }

  /** Whether the subject's messages stay in this process unless another holds its clients too. */
  private mayStayHere(subject: string): boolean {
    const membership = this.memberships.get(subject);
    return membership !== undefined && membership.state === "joined" && this.options.hasClients(subject);
  }

  private covered(outgoing: Outgoing): boolean {
    const membership = this.memberships.get(outgoing.subject);
    return membership !== undefined && Math.max(membership.coveredThrough, this.checkedThrough) >= outgoing.seq;
  }

  /** Takes every notice from this process's inbox and re-reads those subjects' holders. */
  private async readInbox(): Promise<void> {
    const covers = this.sequence;
    const presence = this.options.presence();
    try {
      const noticed: Promise<unknown>[] = [];
      for (;;) {
        const subject = await presence.lpop(this.inboxKey(this.processId));
        if (subject === null) break;
        const membership = this.memberships.get(subject);
        if (membership === undefined || membership.state === "idle") continue;
        // Shared until the read says otherwise: a read that fails leaves it publishing, never skipping.
        this.assumeShared(membership);
        noticed.push(this.readHolders(subject, membership));
      }
      await Promise.all(noticed);
      this.checkedThrough = covers;
    } catch (error) {
      // A notice may have been taken and lost with the failed answer: every subject publishes until its
      // holders are read again.
      this.options.onError({ stage: "push", error });
      this.rereadAllHolders();
    }
  }

  /** Wins over any read already in flight (whose answer may predate the notice). */
  private assumeShared(membership: Membership): void {
    membership.readTag = ++this.readTags;
    membership.shared = true;
  }

  private rereadAllHolders(): void {
    for (const [subject, membership] of this.memberships) {
      if (membership.state === "idle") continue;
      this.assumeShared(membership);
      void this.readHolders(subject, membership).catch(() => undefined);
    }
  }

  private publish(batch: readonly Outgoing[]): void {
    const bySubject = new Map<string, { pushes: SubjectPush[]; previews: PreviewPush[]; rejections: RejectionPush[]; staysHere: boolean }>();
    for (const outgoing of batch) {
      let envelope = bySubject.get(outgoing.subject);
      if (envelope === undefined) {
        envelope = { pushes: [], previews: [], rejections: [], staysHere: true };
        bySubject.set(outgoing.subject, envelope);
      }
      if (!(this.mayStayHere(outgoing.subject) && this.covered(outgoing) && this.memberships.get(outgoing.subject)?.shared === false)) envelope.staysHere = false;
      if ("push" in outgoing) envelope.pushes.push(outgoing.push);
      else if ("preview" in outgoing) envelope.previews.push(outgoing.preview);
      else envelope.rejections.push(outgoing.rejection);
    }
    const presence = this.options.presence();
    for (const [subject, { pushes, previews, rejections, staysHere }] of bySubject) {
      if (staysHere) continue;
      const envelope: SubjectEnvelope = {
        origin: this.processId,
        subject,
        ...(pushes.length === 0 ? {} : { pushes }),
        ...(previews.length === 0 ? {} : { previews }),
        ...(rejections.length === 0 ? {} : { rejections }),
      };
      try {
        void Promise.resolve(presence.publish(this.channel(subject), envelope)).catch((error: unknown) => this.options.onError({ stage: "push", error }));
      } catch (error) {
        this.options.onError({ stage: "push", error });
      }
    }
  }

  private channel(subject: string): string {
    return `${this.options.topic}:subject:${subject}`;
  }

  private holdersKey(subject: string): string {
    return `${this.options.topic}:holders:${subject}`;
  }

  private inboxKey(processId: string): string {
    return `${this.options.topic}:inbox:${processId}`;
  }
}
