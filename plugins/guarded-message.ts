import type { Client, MessageContext } from "@colyseus/core";
import type { z } from "zod";
import { ErrorCode } from "../src/errors/error-codes.ts";
import { isProgressionError } from "../src/errors/progression-error.ts";
import { describeError } from "../src/logging/logger.ts";
import { adapterLogger } from "./adapter-logger.ts";
import { PushMessage, type RejectionReason } from "../src/protocol/client-messages.ts";
import { RateCaps, rateCapsOfOne, type RateCapOptions, type RateDecision } from "./rate-caps.ts";

/**
 * A message handler that validates its payload with a zod schema, runs the handler and turns every
 * failure into a clear rejection, never into a crash or a dropped connection.
 *
 * Why not Colyseus' own `validate(...)`: on a fire-and-forget `room.send` an invalid payload makes the
 * room drop the client, and an async handler that throws becomes an unhandled rejection. Here both
 * paths answer: a `room.request` gets `ctx.reject(reason)`, a `room.send` gets a `progression:rejected`
 * message. A request's response is the handler's return value; a `room.send` gets it only when
 * `replyOnSend` names a message for it (fire-and-forget traffic such as kills stays one-way).
 *
 * With `rateCap`, each client's messages of this type are rate-capped before anything else runs (see
 * `GuardedMessageOptions.rateCap`).
 */
export type GuardedHandler<Payload> = (
  client: Client,
  message: Payload,
  ctx: MessageContext,
) => unknown;

export interface GuardedMessageOptions {
  /** Also send the handler's result to a `room.send` sender, as this message type (e.g. "shop:held"). */
  readonly replyOnSend?: string;
  /**
   * Caps how fast each client may send this message: `{ perSecond, burst? }` for a token bucket of this
   * type's own, or the room's shared caps from `createRateCaps({ perType, total, disconnect })` (one bucket
   * per type and client, one total per client across the types that share them). A message over the cap is
   * not parsed nor handled: a `room.request` is rejected with `RATE_LIMITED`, a `room.send` gets a
   * `progression:rejected` with `RATE_LIMITED` at most once per type per 100 ms (`noticeIntervalMs`). A
   * client refused `disconnect.afterLimited` times (default 1000) within `disconnect.withinMs` (10 s) is
   * disconnected with close code 4029 and a reason. Every message counts, valid or not.
   * @default no cap
   */
  readonly rateCap?: RateCapOptions | RateCaps;
}

export function guardedMessage<Schema extends z.ZodType>(
  type: string,
  schema: Schema,
  handler: GuardedHandler<z.output<Schema>>,
  options: GuardedMessageOptions = {},
): (client: Client, message: unknown, ctx: MessageContext) => unknown {
  const caps = options.rateCap === undefined || options.rateCap instanceof RateCaps ? options.rateCap : rateCapsOfOne(type, options.rateCap);
  // Made once: a refusal allocates nothing.
  const rateLimited: RejectionReason | undefined = caps === undefined ? undefined : { type, code: ErrorCode.RateLimited, message: caps.describe(type) };
  const refused = (client: Client, ctx: MessageContext, decision: RateDecision): unknown => {
    // Every request is answered (the room replies to each one anyway); sends get a notice now and then.
    if (ctx.id !== undefined) return ctx.reject(rateLimited);
    if (decision === "limited" && rateLimited !== undefined) client.send(PushMessage.Rejected, rateLimited);
    return undefined;
  };
  const succeeded = (client: Client, ctx: MessageContext, result: unknown): unknown => {
    if (ctx.id === undefined && options.replyOnSend !== undefined) client.send(options.replyOnSend, result);
    return result;
  };
  const failed = (client: Client, ctx: MessageContext, error: unknown): unknown => {
    if (isProgressionError(error)) return reject(client, ctx, { type, code: error.code, message: error.message });
    // An unexpected failure is a bug in the handler: its stack is what finds it.
    adapterLogger().error(`handler of "${type}" failed: ${error instanceof Error && error.stack !== undefined ? error.stack : describeError(error)}`);
    return reject(client, ctx, {
      type,
      code: "INTERNAL",
      message: `${type}: the server failed to handle this message; try again later`,
    });
  };
  // Synchronous when the handler is (the hot path: kills and loot cost no promise); a promise otherwise,
  // which never rejects.
  return (client, message, ctx) => {
    if (caps !== undefined) {
      const decision = caps.admit(client, type);
      if (decision !== "allowed") return refused(client, ctx, decision);
    }
    const parsed = schema.safeParse(message);
    if (!parsed.success) {
      return reject(client, ctx, {
        type,
        code: ErrorCode.InvalidInput,
        message: `${type}: ${describeIssues(parsed.error.issues)}`,
      });
    }
    let result: unknown;
    try {
      result = handler(client, parsed.data, ctx);
    } catch (error) {
      return failed(client, ctx, error);
    }
    if (isPromiseLike(result)) {
      return Promise.resolve(result).then(
        (value) => succeeded(client, ctx, value),
        (error: unknown) => failed(client, ctx, error),
      );
    }
    return succeeded(client, ctx, result);
  };
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}

/** Rejects through the request channel when there is one, else with a `progression:rejected` message. */
export function reject(client: Client, ctx: MessageContext, reason: RejectionReason): unknown {
  if (ctx.id !== undefined) return ctx.reject(reason);
  client.send(PushMessage.Rejected, reason);
  return undefined;
}

function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 3)
    .map((issue) => {
      const path = issue.path.length === 0 ? "payload" : issue.path.map(String).join(".");
      return `${path}: ${issue.message}`;
    })
    .join("; ");
}
