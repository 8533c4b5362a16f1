import { randomUUID } from "node:crypto";
import { Queue, Worker, type Job } from "bullmq";
import { ErrorCode } from "../../errors/error-codes.ts";
import { ProgressionError } from "../../errors/progression-error.ts";
import { bullPrefixFor, jobIdFor, openQueueConnection, requireQueueName, requireQueueRedis, type QueueConnection, type QueueRedis } from "../jobs/queue-connection.ts";
import type { DomainEventBus, DomainListener } from "../../events/domain-event-bus.ts";
import { domainTopics, type DomainEnvelope, type DomainTopic, type DomainTopics } from "../../events/domain-topics.ts";
import { jsonTopicCodecs, type TopicCodecs } from "./topic-codecs.ts";
import { consoleLogger, describeError, type ProgressionLogger } from "../../logging/logger.ts";
import { OutageLog } from "../../logging/outage-log.ts";

/**
 * Durable domain events: `emit` enqueues the envelope as a
 * `dispatch` job; a worker fans it out into one `deliver` job per listener registered on the topic,
 * and each delivery is retried on its own with exponential backoff, so a failing listener never
 * re-runs the others. After the last attempt the job stays in the failed set with its error
 * (`failedDeliveries()`), and `onFailure` is told. Every process that runs a worker must register the
 * same listeners (listeners are code, registered at start).
 */

export interface BullMQEventBusOptions {
  /** Redis for the queue and its worker: a redis:// URL, ioredis options or `{ cluster: nodes, options? }`. Required. */
  redis: QueueRedis;
  /** Queue name; give each test its own. Default `"progression-events"`. */
  queueName?: string;
  /** BullMQ key prefix. Default `"bull"`; on a Redis Cluster `"{bull}"` (a prefix without a hash tag is refused there). */
  prefix?: string;
  /** Deliveries per listener before the failure is final. Default 5. */
  attempts?: number;
  /** First retry delay, doubled on each further retry. Default 1000 ms. */
  backoffMs?: number;
  /** Deliveries processed at once by this process's worker. Default 8. */
  concurrency?: number;
  /** Run a worker in this process (false: emit only). Default true. */
  runWorker?: boolean;
  /**
   * Enqueue topics no listener in this process is registered for. Default false when this process runs
   * a worker (every process registers the same listeners, so nobody would receive them: a game server
   * emits a domain event per loot pickup, and a job per unheard event doubled Redis CPU per event in the
   * load test); true for emit-only processes (`runWorker: false`), whose listeners live elsewhere.
   */
  enqueueUnlistenedTopics?: boolean;
  /** How long finally failed deliveries stay visible in Redis. Default 7 days. */
  keepFailedForMs?: number;
  /** Payload codecs per topic. Default JSON validated per topic (`jsonTopicCodecs`). */
  codecs?: Partial<TopicCodecs>;
  /** Told once per delivery that failed its last attempt. Default: one error line on `logger`. */
  onFailure?: (failure: DeliveryFailure) => void;
  /** Told when an envelope could not be enqueued after retries (Redis down). Default: one line on `logger` per outage. */
  onError?: (error: unknown) => void;
  /** Where the default `onFailure` and `onError` write. Default: the console, prefixed. */
  logger?: ProgressionLogger;
}

export const bullmqEventBusDefaults = {
  queueName: "progression-events",
  prefix: "bull",
  attempts: 5,
  backoffMs: 1000,
  concurrency: 8,
  runWorker: true,
  enqueueUnlistenedTopics: false,
  keepFailedForMs: 7 * 24 * 60 * 60 * 1000,
} as const;

export interface DeliveryFailure {
  readonly listenerName: string;
  readonly envelope: DomainEnvelope;
  readonly attempts: number;
  readonly error: string;
}

/** The envelope as stored in a job: the payload encoded by its topic's codec. */
interface StoredEnvelope {
  readonly id: string;
  readonly topic: DomainTopic;
  readonly idempotencyKey: string;
  readonly occurredAt: number;
  readonly payload: string;
}

type JobData = { readonly envelope: StoredEnvelope } | { readonly envelope: StoredEnvelope; readonly listener: string };

interface Registration {
  readonly name: string;
  readonly listener: DomainListener<DomainTopic>;
}

const ENQUEUE_ATTEMPTS = 5;

export class BullMQEventBus implements DomainEventBus {
  readonly queueName: string;
  private readonly queue: Queue<JobData>;
  private worker: Worker<JobData> | undefined;
  private readonly options: Required<Omit<BullMQEventBusOptions, "codecs" | "redis" | "logger">>;
  private readonly connection: QueueConnection;
  private readonly codecs: TopicCodecs;
  private readonly listeners = new Map<DomainTopic, Registration[]>();
  private readonly pending = new Set<Promise<void>>();
  /** Envelopes emitted since the last microtask, enqueued together. */
  private batch: StoredEnvelope[] | null = null;
  private closed = false;
  private readonly enqueueOutage: OutageLog;

  constructor(options: BullMQEventBusOptions) {
    const redis = requireQueueRedis(options.redis);
    this.queueName = requireQueueName(options.queueName ?? bullmqEventBusDefaults.queueName, "queueName");
    const logger = options.logger ?? consoleLogger;
    const enqueueOutage = new OutageLog(logger, "domain events: enqueueing to Redis (BullMQ)");
    this.enqueueOutage = enqueueOutage;
    this.options = {
      ...bullmqEventBusDefaults,
      onFailure: (failure) =>
        logger.error(`listener ${failure.listenerName} failed ${failure.attempts} times on ${failure.envelope.topic} ${failure.envelope.id}: ${describeError(failure.error)}`),
      onError: (error) => enqueueOutage.failed(error),
      ...definedOnly(withoutLogger(options)),
      prefix: bullPrefixFor(redis, options.prefix, "prefix"),
    };
    for (const [option, value] of [["attempts", this.options.attempts], ["concurrency", this.options.concurrency]] as const) {
      if (!Number.isSafeInteger(value) || value < 1) {
        throw new ProgressionError(ErrorCode.InvalidInput, `${option} must be a positive integer, got ${String(value)}`, { [option]: value });
      }
    }
    this.codecs = { ...jsonTopicCodecs, ...options.codecs } as TopicCodecs;
    // Opened last: a refused option leaves nothing to close.
    this.connection = openQueueConnection(redis);
    this.queue = new Queue<JobData>(this.queueName, { connection: this.connection.connection, prefix: this.options.prefix });
    this.queue.on("error", (error) => this.options.onError(error));
  }

  on<T extends DomainTopic>(topic: T, listenerName: string, listener: DomainListener<T>): () => void {
    requireTopic(topic);
    if (typeof listenerName !== "string" || listenerName.length === 0 || listenerName.length > 200) {
      throw new ProgressionError(ErrorCode.InvalidInput, `listener name ${JSON.stringify(listenerName)} must be a 1-200 character string; it keys retries and failure reports`, { listenerName });
    }
    const registrations = this.listeners.get(topic) ?? [];
    if (registrations.some((registration) => registration.name === listenerName)) {
      throw new ProgressionError(ErrorCode.InvalidInput, `a listener named ${JSON.stringify(listenerName)} is already registered on ${topic}: give each listener its own name`, { topic, listenerName });
    }
    const registration: Registration = { name: listenerName, listener: listener as unknown as DomainListener<DomainTopic> };
    registrations.push(registration);
    this.listeners.set(topic, registrations);
    if (this.options.runWorker) this.startWorker();
    return () => {
      const list = this.listeners.get(topic);
      const index = list?.indexOf(registration) ?? -1;
      if (list !== undefined && index >= 0) list.splice(index, 1);
    };
  }

  emit<T extends DomainTopic>(topic: T, idempotencyKey: string, payload: DomainTopics[T], occurredAt: number): void {
    if (this.closed) throw new ProgressionError(ErrorCode.Closed, `the event bus is closed; ${topic} was not emitted`, { topic });
    requireTopic(topic);
    if (typeof idempotencyKey !== "string" || idempotencyKey.length === 0) {
      throw new ProgressionError(ErrorCode.InvalidInput, `emit(${topic}) needs a non-empty idempotencyKey naming the fact, e.g. "${topic}:<subject>:<code>"`, { topic });
    }
    if (!Number.isFinite(occurredAt)) {
      throw new ProgressionError(ErrorCode.InvalidInput, `emit(${topic}) needs occurredAt as epoch milliseconds, got ${String(occurredAt)}`, { topic, occurredAt });
    }
    const unheard = (this.listeners.get(topic)?.length ?? 0) === 0;
    if (unheard && this.options.runWorker && !this.options.enqueueUnlistenedTopics) return;
    const codec = this.codecs[topic] as unknown as { encode(payload: DomainTopics[T]): string };
    const envelope: StoredEnvelope = { id: randomUUID(), topic, idempotencyKey, occurredAt, payload: codec.encode(payload) };
    // Everything emitted in one synchronous run (a flush's awards and balances) goes out as one addBulk.
    if (this.batch === null) {
      const batch: StoredEnvelope[] = [];
      this.batch = batch;
      this.track(
        Promise.resolve().then(() => {
          this.batch = null;
          return this.enqueue(batch);
        }),
      );
    }
    this.batch.push(envelope);
  }

  async drain(): Promise<void> {
    for (;;) {
      while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
      const counts = await this.queue.getJobCounts("waiting", "active", "delayed", "prioritized", "waiting-children");
      const open = Object.values(counts).reduce((sum, count) => sum + count, 0);
      if (open === 0 && this.pending.size === 0) return;
      await sleep(20);
    }
  }

  /** Resolves once every envelope emitted so far is safely in Redis (not yet delivered). */
  async enqueued(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Deliveries that failed their last attempt and are kept for inspection, newest first. */
  async failedDeliveries(limit = 100): Promise<readonly DeliveryFailure[]> {
    const jobs = await this.queue.getFailed(0, Math.max(0, limit - 1));
    return jobs.flatMap((job) => {
      const failure = this.failureOf(job);
      return failure === undefined ? [] : [failure];
    });
  }

  /** Jobs of this queue by state (for metrics). */
  async jobCounts(): Promise<{ queue: string; counts: Record<string, number> }> {
    return { queue: this.queueName, counts: await this.queue.getJobCounts("waiting", "active", "delayed", "failed") };
  }

  /** Whether the queue's Redis answers (one round trip). */
  async ping(): Promise<void> {
    await this.queue.getJobCounts("waiting");
  }

  /** Stops the worker after its current deliveries; jobs left in Redis are picked up by the next worker. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.enqueued();
    await this.worker?.close();
    await this.queue.close();
    await this.connection.close();
  }

  private startWorker(): void {
    if (this.worker !== undefined || this.closed) return;
    this.worker = new Worker<JobData>(this.queueName, (job) => this.process(job), {
      connection: this.connection.connection,
      prefix: this.options.prefix,
      concurrency: this.options.concurrency,
    });
    this.worker.on("error", (error) => this.options.onError(error));
    this.worker.on("failed", (job) => {
      if (job === undefined || job.attemptsMade < (job.opts.attempts ?? 1)) return;
      const failure = this.failureOf(job);
      if (failure !== undefined) this.options.onFailure(failure);
      else this.options.onError(new Error(`dispatch of ${job.name} ${job.id ?? ""} failed: ${job.failedReason}`));
    });
  }

  private async process(job: Job<JobData>): Promise<void> {
    const data = job.data;
    if (!("listener" in data)) {
      // dispatch: one delivery per listener; job ids derived from (envelope, listener) make a retried
      // dispatch add nothing twice.
      const registrations = this.listeners.get(data.envelope.topic) ?? [];
      if (registrations.length === 0) return;
      await this.queue.addBulk(
        registrations.map((registration) => ({
          name: `deliver:${data.envelope.topic}`,
          data: { envelope: data.envelope, listener: registration.name },
          opts: {
            jobId: jobIdFor("deliver", `${data.envelope.id}\n${registration.name}`),
            attempts: this.options.attempts,
            backoff: { type: "exponential", delay: this.options.backoffMs },
            removeOnComplete: true,
            removeOnFail: { age: Math.ceil(this.options.keepFailedForMs / 1000) },
          },
        })),
      );
      return;
    }
    const registration = this.listeners.get(data.envelope.topic)?.find((candidate) => candidate.name === data.listener);
    if (registration === undefined) {
      throw new ProgressionError(
        ErrorCode.InvalidInput,
        `no listener named ${JSON.stringify(data.listener)} on ${data.envelope.topic} in this process: register the same listeners in every process that runs a worker`,
        { listenerName: data.listener, topic: data.envelope.topic },
      );
    }
    await registration.listener(this.envelopeOf(data.envelope, job.attemptsMade + 1));
  }

  private envelopeOf(stored: StoredEnvelope, attempt: number): DomainEnvelope {
    const codec = this.codecs[stored.topic] as unknown as { decode(encoded: string): DomainTopics[DomainTopic] };
    return {
      id: stored.id,
      topic: stored.topic,
      idempotencyKey: stored.idempotencyKey,
      occurredAt: stored.occurredAt,
      attempt,
      payload: codec.decode(stored.payload),
    } as DomainEnvelope;
  }

  private failureOf(job: Job<JobData>): DeliveryFailure | undefined {
    const data = job.data;
    if (!("listener" in data)) return undefined;
    let envelope: DomainEnvelope;
    try {
      envelope = this.envelopeOf(data.envelope, job.attemptsMade);
    } catch {
      envelope = { ...data.envelope, attempt: job.attemptsMade, payload: JSON.parse(data.envelope.payload) as never };
    }
    return { listenerName: data.listener, envelope, attempts: job.attemptsMade, error: job.failedReason };
  }

  private async enqueue(envelopes: readonly StoredEnvelope[]): Promise<void> {
    const jobs = envelopes.map((envelope) => ({
      name: `dispatch:${envelope.topic}`,
      data: { envelope },
      opts: {
        // The envelope id is the job id: re-adding after an ambiguous failure cannot duplicate it.
        jobId: envelope.id,
        attempts: this.options.attempts,
        backoff: { type: "exponential", delay: this.options.backoffMs },
        removeOnComplete: true,
        removeOnFail: { age: Math.ceil(this.options.keepFailedForMs / 1000) },
      },
    }));
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.queue.addBulk(jobs);
        this.enqueueOutage.recovered();
        return;
      } catch (error) {
        if (attempt >= ENQUEUE_ATTEMPTS) {
          this.options.onError(error);
          return;
        }
        await sleep(100 * 2 ** attempt);
      }
    }
  }

  private track(promise: Promise<void>): void {
    this.pending.add(promise);
    void promise.finally(() => this.pending.delete(promise));
  }
}

function requireTopic(topic: unknown): asserts topic is DomainTopic {
  if (!domainTopics.includes(topic as DomainTopic)) {
    throw new ProgressionError(ErrorCode.InvalidInput, `unknown topic ${JSON.stringify(topic)}: use one of ${domainTopics.join(", ")}`, { topic });
  }
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withoutLogger(options: BullMQEventBusOptions): Omit<BullMQEventBusOptions, "logger"> {
  const { logger: _logger, ...rest } = options;
  return rest;
}
