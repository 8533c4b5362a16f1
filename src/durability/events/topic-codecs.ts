import { z } from "zod";
import { rewardSchema } from "../../definitions/milestone-schema.ts";
import { ErrorCode } from "../../errors/error-codes.ts";
import { ProgressionError } from "../../errors/progression-error.ts";
import type { DomainTopic, DomainTopics } from "../../events/domain-topics.ts";

/**
 * How each topic's payload crosses Redis: encoded when emitted, decoded (and validated) in the worker,
 * so a listener never sees a payload of the wrong shape — e.g. one left in the queue by an older
 * version of the code. The default codecs are JSON checked by a zod schema per topic.
 */
export interface TopicCodec<T extends DomainTopic> {
  encode(payload: DomainTopics[T]): string;
  decode(encoded: string): DomainTopics[T];
}

export type TopicCodecs = { readonly [T in DomainTopic]: TopicCodec<T> };

const time = z.number().int();
const quantity = z.number().int().nonnegative();
const balance = z.object({ subject: z.string(), item: z.string(), free: quantity, held: quantity });
const hold = z.object({
  holdId: z.string(),
  subject: z.string(),
  item: z.string(),
  quantity: z.number().int().positive(),
  createdAt: time,
  expiresAt: time,
  state: z.enum(["held", "committed", "released", "expired"]),
  settledAt: time.nullable(),
});

const payloadSchemas: { readonly [T in DomainTopic]: z.ZodType<DomainTopics[T]> } = {
  "milestone.reached": z.object({ subject: z.string(), code: z.string(), earnedAt: time, retroactive: z.boolean(), awardedAt: time.optional(), awardedBy: z.string().optional() }),
  "reward.claimed": z.object({
    subject: z.string(),
    code: z.string(),
    rewards: z.array(rewardSchema),
    claimedAt: time,
    auto: z.boolean(),
  }),
  "hold.expired": z.object({ hold }),
  "inventory.changed": z.object({
    cause: z.enum(["acquire", "consume", "transfer", "hold", "commit", "release", "expire", "claim"]),
    balances: z.array(balance),
    detail: z.string().optional(),
  }),
  "progression.suspicious": z.object({
    subject: z.string(),
    trigger: z.string(),
    guard: z.enum(["maxAmount", "maxPerWindow"]),
    limit: z.number().int().positive(),
    windowMs: z.number().int().positive().optional(),
    value: z.number().int().positive(),
    at: time,
  }),
};

function jsonCodec<T extends DomainTopic>(topic: T): TopicCodec<T> {
  const schema = payloadSchemas[topic];
  return {
    encode: (payload) => JSON.stringify(payload),
    decode: (encoded) => {
      const parsed = schema.safeParse(JSON.parse(encoded));
      if (!parsed.success) {
        throw new ProgressionError(
          ErrorCode.InvalidInput,
          `payload of a ${topic} event does not match its topic: ${parsed.error.message}. ` +
            "Emit payloads of the DomainTopics shape, or pass a codec for this topic in `codecs`",
          { topic },
        );
      }
      return parsed.data;
    },
  };
}

export const jsonTopicCodecs: TopicCodecs = {
  "milestone.reached": jsonCodec("milestone.reached"),
  "reward.claimed": jsonCodec("reward.claimed"),
  "hold.expired": jsonCodec("hold.expired"),
  "inventory.changed": jsonCodec("inventory.changed"),
  "progression.suspicious": jsonCodec("progression.suspicious"),
};
