import { randomUUID } from "node:crypto";
import { ErrorCode as ColyseusErrorCode, Room, ServerError, definePlugins, type AuthContext, type Client } from "@colyseus/core";
import { ClientRequest, PushMessage } from "../../src/protocol/client-messages.ts";
import { guardedMessage } from "../../plugins/guarded-message.ts";
import { createRateCaps, type RateCapsOptions } from "../../plugins/rate-caps.ts";
import type { ProgressionHost } from "../../plugins/progression-host.ts";
import { ProgressionPlugin } from "../../plugins/progression-plugin.ts";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import { ProgressionError, isProgressionError } from "../../src/errors/progression-error.ts";
import type { Balance } from "../../src/model/balance.ts";
import { SUBJECT_ID, requireSubject } from "../../src/model/validate-input.ts";
import { currency, shopPrices, type ShopItem } from "./arena-catalog.ts";
import { buyMessage, cancelMessage, confirmMessage, killMessage, lootMessage, tradeMessage } from "./arena-messages.ts";

export interface ArenaSettings {
  /** How long a shop purchase holds the buyer's gold before it expires. @default 30_000 */
  readonly holdTtlMs?: number;
  /** How long a dropped player may reconnect to the same session. @default 20 */
  readonly reconnectSeconds?: number;
  /**
   * Per-client message rate caps (see `createRateCaps`); `false` turns them off.
   * @default arenaRateCaps
   */
  readonly rateCaps?: RateCapsOptions | false;
}

/**
 * The arena's rate caps, per client. Sized for the bundled load test with room to spare: its heaviest preset
 * (`npm run loadtest:matrix`, 600 events/s per bot: about 360 kills, 230 loot and 6 each of trade, buy and
 * confirm a second, sent in bursts of up to 60 per tick) stays at a third of them, and a server stalled for a
 * second still finds its backlog within the bursts. A game sets its own from what its clients really send (a
 * player seldom kills more than a few things a second).
 */
export const arenaRateCaps = {
  perType: {
    kill: { perSecond: 1_000, burst: 2_000 },
    loot: { perSecond: 1_000, burst: 2_000 },
    // Ledger calls: each one is a store round trip.
    trade: { perSecond: 50, burst: 100 },
    buy: { perSecond: 50, burst: 100 },
    confirm: { perSecond: 50, burst: 100 },
    cancel: { perSecond: 50, burst: 100 },
    // The plugin's own messages (the arena hands it these caps): a claim is a store round trip, a resync a snapshot.
    "progression:claim": { perSecond: 10, burst: 20 },
    "progression:resync": { perSecond: 2, burst: 5 },
  },
  // Every guarded message and every unknown one, together.
  total: { perSecond: 2_000, burst: 4_000 },
  // A client refused 1,000 times within 10 s is flooding, not lagging: disconnected (close code 4029).
  disconnect: { afterLimited: 1_000, withinMs: 10_000 },
} as const satisfies RateCapsOptions;

export const arenaDefaults = { holdTtlMs: 30_000, reconnectSeconds: 20, rateCaps: arenaRateCaps } as const;

/** The message type unknown messages are counted as (toward the total cap only). */
const unknownMessage = "_";

/** What the shop answers to `buy`: the hold to `confirm` or `cancel` before `expiresAt`. */
export interface PurchaseHold {
  readonly holdId: string;
  readonly item: ShopItem;
  readonly qty: number;
  readonly price: number;
  readonly expiresAt: number;
}

export interface PurchaseResult {
  readonly holdId: string;
  readonly item: ShopItem;
  readonly qty: number;
  readonly balances: readonly Balance[];
}

interface PendingPurchase {
  readonly subject: string;
  readonly item: ShopItem;
  readonly qty: number;
  readonly expiresAt: number;
}

/** What clients may send to the arena. */
export const arenaMessageTypes = ["kill", "loot", "trade", "buy", "confirm", "cancel", ClientRequest.Claim, ClientRequest.Resync] as const;

/**
 * The example arena: kills and loot advance milestones, players trade items, and a shop sells items
 * for gold through ledger holds (buy -> hold, confirm -> commit, cancel -> release, timeout -> expiry).
 * Every message is validated (see arena-messages.ts); bad ones are rejected with a reason, never
 * crashing the room or dropping the player.
 *
 * A factory, because the plugin needs the process-wide host when the room is constructed.
 */
export function createArenaRoom(host: ProgressionHost, settings: ArenaSettings = {}) {
  const holdTtlMs = settings.holdTtlMs ?? arenaDefaults.holdTtlMs;
  const reconnectSeconds = settings.reconnectSeconds ?? arenaDefaults.reconnectSeconds;
  // One set of caps for every arena room: state is per client, so rooms never share a bucket.
  const rateCaps = settings.rateCaps === false ? undefined : createRateCaps(settings.rateCaps ?? arenaDefaults.rateCaps);
  const rateCap = rateCaps === undefined ? {} : { rateCap: rateCaps };

  return class ArenaRoom extends Room {
    override plugins = definePlugins([new ProgressionPlugin(host, rateCaps === undefined ? {} : { rateCaps })]);

    /** Open purchases of this room by hold id: what to grant when the gold hold is committed. */
    private readonly purchases = new Map<string, PendingPurchase>();

    override messages = {
      // Any other message type: a clear rejection instead of Colyseus dropping the client.
      _: (client: Client, type: string | number) => {
        const name = String(type).slice(0, 64);
        const decision = rateCaps?.admit(client, unknownMessage) ?? "allowed";
        if (decision === "limited") client.send(PushMessage.Rejected, { type: name, code: ErrorCode.RateLimited, message: rateCaps?.describe(name) ?? "" });
        if (decision !== "allowed") return;
        client.send(PushMessage.Rejected, {
          type: name,
          code: "UNKNOWN_MESSAGE",
          message: `the arena has no ${JSON.stringify(name)} message; send one of: ${arenaMessageTypes.join(", ")}`,
        });
      },

      kill: guardedMessage("kill", killMessage, (client, message) => {
        this.plugins.progression.record(client, "kill", { creature: message.creature });
      }, rateCap),

      loot: guardedMessage("loot", lootMessage, (client, message, ctx) => {
        this.plugins.progression.record(client, "loot", { item: message.item }, message.qty);
        if (ctx.id === undefined) {
          // Fire-and-forget pickups are coalesced: one ledger call per player and item every grantIntervalMs.
          this.plugins.progression.grant(client, message.item, message.qty);
          return undefined;
        }
        // A request wants the new balance: granted now.
        const subject = this.plugins.progression.subjectOf(client);
        return this.plugins.progression.ledger
          .acquire({ subject, item: message.item, quantity: message.qty, idempotencyKey: `loot:${randomUUID()}` })
          .then((receipt) => ({ balances: receipt.balances }));
      }, rateCap),

      trade: guardedMessage("trade", tradeMessage, async (client, message) => {
        const from = this.plugins.progression.subjectOf(client);
        await this.plugins.progression.flushGrants(client); // loot picked up a moment ago can be traded
        const peer = this.clients.get(message.to);
        // Not someone in this room: it must be an id a player can log in as (onAuth's shape).
        const to = peer === undefined ? requireSubject(message.to, "to") : this.plugins.progression.subjectOf(peer);
        const receipt = await this.plugins.progression.ledger.transfer({
          from,
          to,
          item: message.item,
          quantity: message.qty,
          idempotencyKey: `trade:${message.requestId ?? randomUUID()}`,
          // A player the store has never seen is refused (UNKNOWN_SUBJECT): gold never goes to nobody.
          allowNewReceiver: false,
        });
        return { balances: receipt.balances };
      }, rateCap),

      buy: guardedMessage(
        "buy",
        buyMessage,
        async (client, message): Promise<PurchaseHold> => {
          const subject = this.plugins.progression.subjectOf(client);
          await this.plugins.progression.flushGrants(client); // gold looted a moment ago can pay
          const price = shopPrices[message.item] * message.qty;
          const receipt = await this.plugins.progression.ledger.hold({
            subject,
            item: currency,
            quantity: price,
            ttlMs: holdTtlMs,
            idempotencyKey: `buy:${message.requestId ?? randomUUID()}`,
          });
          const { holdId, expiresAt } = receipt.hold;
          this.purchases.set(holdId, { subject, item: message.item, qty: message.qty, expiresAt });
          return { holdId, item: message.item, qty: message.qty, price, expiresAt };
        },
        { replyOnSend: "shop:held", ...rateCap },
      ),

      confirm: guardedMessage("confirm", confirmMessage, async (client, message): Promise<PurchaseResult> => {
        const purchase = this.purchaseOf(client, message.holdId);
        try {
          await this.plugins.progression.ledger.commit(message.holdId);
        } catch (error) {
          if (isProgressionError(error, ErrorCode.HoldExpired) || isProgressionError(error, ErrorCode.HoldClosed)) {
            this.purchases.delete(message.holdId);
          }
          throw error;
        }
        // Keyed by the hold: a confirm retried after a crash between the two steps grants once.
        await this.plugins.progression.ledger.acquire({
          subject: purchase.subject,
          item: purchase.item,
          quantity: purchase.qty,
          idempotencyKey: `shop:${message.holdId}`,
        });
        this.purchases.delete(message.holdId);
        const balances = await this.plugins.progression.ledger.list(purchase.subject);
        return { holdId: message.holdId, item: purchase.item, qty: purchase.qty, balances };
      }, rateCap),

      cancel: guardedMessage("cancel", cancelMessage, async (client, message) => {
        const purchase = this.purchaseOf(client, message.holdId);
        const receipt = await this.plugins.progression.ledger.release(message.holdId);
        this.purchases.delete(message.holdId);
        return { holdId: message.holdId, item: purchase.item, qty: purchase.qty, balances: receipt.balances };
      }, rateCap),
    };

    override onCreate(): void {
      // Forget purchases whose hold expired long ago (their gold is already back).
      this.clock.setInterval(() => {
        const cutoff = Date.now() - 60_000;
        for (const [holdId, purchase] of this.purchases) {
          if (purchase.expiresAt < cutoff) this.purchases.delete(holdId);
        }
      }, 60_000);
    }

    /**
     * Demo identity: the auth token (`client.auth.token = "<player id>"` in the SDK), else `playerId`
     * (or `subject`) from the join options. Replace with your real authentication (verify a token);
     * the plugin only needs `client.auth.id`.
     */
    override onAuth(_client: Client, options: unknown, context: AuthContext): { id: string } {
      const joinOptions = options !== null && typeof options === "object" ? (options as Record<string, unknown>) : {};
      const candidates: unknown[] = [context.token, joinOptions["playerId"], joinOptions["subject"]];
      const playerId = candidates.find((candidate) => typeof candidate === "string" && candidate !== "");
      if (typeof playerId !== "string" || !SUBJECT_ID.test(playerId)) {
        throw new ServerError(
          ColyseusErrorCode.AUTH_FAILED,
          "join the arena as a player: set client.auth.token, or pass { playerId } in the join options (1-128 letters, digits, _ . : @ -)",
        );
      }
      return { id: playerId };
    }

    override async onDrop(client: Client): Promise<void> {
      // Disconnected for flooding: no seat kept for a reconnection.
      if (rateCaps?.disconnected(client) === true) return;
      try {
        await this.allowReconnection(client, reconnectSeconds);
      } catch {
        // Not back in time: onLeave runs and the plugin detaches the session.
      }
    }

    override async onReconnect(client: Client): Promise<void> {
      // Pushes sent while the player was away are lost; a fresh snapshot brings the client up to date.
      await this.plugins.progression.resync(client);
    }

    private purchaseOf(client: Client, holdId: string): PendingPurchase {
      const purchase = this.purchases.get(holdId);
      if (purchase === undefined || purchase.subject !== this.plugins.progression.subjectOf(client)) {
        throw new ProgressionError(
          ErrorCode.HoldUnknown,
          `no open purchase with holdId ${JSON.stringify(holdId)} for you in this room: use the holdId that buy returned`,
          { holdId },
        );
      }
      return purchase;
    }
  };
}
