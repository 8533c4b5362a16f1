import { describe, expect, it } from "vitest";
import type { PurchaseHold } from "../../rooms/arena/arena-room.ts";
import type { InventoryMessage, PreviewMessage } from "../../src/protocol/client-messages.ts";
import { newPlayerId, settle } from "./support/arena-server.ts";
import { useTwoProcesses } from "./support/two-processes.ts";

/**
 * Two server processes on one Redis (store and presence): this test's process, and a spawned one with
 * the admin routes. A player has a client on each.
 */
const two = useTwoProcesses("xproc");
const { joinedOther, joinedHere } = two;

describe("previews and holds across two processes sharing a RedisPresence", () => {
  it("host.preview reaches the player's client on the other process in its own locale; the other's preview-live reaches this one", async () => {
    const playerId = newPlayerId("xproc-preview");
    const english = await joinedHere(playerId, "en");
    const german = await joinedOther(playerId, "de");
    const progressBefore = await two.here.progression.progress(playerId);
    const statsBefore = await two.here.progression.milestoneStats();

    expect(two.here.host.preview(playerId, "slayer_10")).toEqual({ clients: 1 }); // the clients of this process
    const local = await english.waitFor<PreviewMessage>("progression:preview");
    const remote = await german.waitFor<PreviewMessage>("progression:preview");
    expect(local).toMatchObject({ code: "slayer_10", title: "Slayer I", preview: true });
    // The series line names the next tier in the client's locale too.
    const germanSeries = { id: "slayer", order: 1, of: 3, next: { masked: false, code: "slayer_100", title: "Schlächter II", target: 100 } };
    expect(remote).toEqual({ ...local, title: "Schlächter I", description: "Besiege 10 Kreaturen.", series: germanSeries });

    // The other process lists only its own client, and its admin route reaches this process's client too.
    const headers = { authorization: `Bearer ${two.token}`, "content-type": "application/json" };
    const players = (await (await fetch(`http://127.0.0.1:${two.otherPort}/progression/admin/players`, { headers })).json()) as { players: unknown[] };
    expect(players.players).toContainEqual({ subject: playerId, clients: 1, locales: ["de"] });
    const answer = await fetch(`http://127.0.0.1:${two.otherPort}/progression/admin/preview-live`, {
      method: "POST",
      headers,
      body: JSON.stringify({ subject: playerId, code: "skaven_slayer" }),
    });
    expect(await answer.json()).toEqual({ subject: playerId, code: "skaven_slayer", clients: 1 });
    await english.waitFor<PreviewMessage>("progression:preview", (preview) => preview.code === "skaven_slayer" && preview.title === "Skaven Slayer");
    await german.waitFor<PreviewMessage>("progression:preview", (preview) => preview.code === "skaven_slayer" && preview.title === "Skavenjäger");

    await settle(two.here.host, english);
    await german.roundTrip();
    expect(english.messages("progression:preview")).toHaveLength(2); // once each, not again through its own published copy
    expect(german.messages("progression:preview")).toHaveLength(2);
    expect(await two.here.progression.progress(playerId)).toEqual(progressBefore);
    expect(await two.here.progression.milestoneStats()).toEqual(statsBefore);
    expect([...english.messages("progression:unlocked"), ...german.messages("progression:unlocked")]).toEqual([]);
  });

  it("a hold opened and settled on one process reaches the player's client on the other with its inventory push", async () => {
    const playerId = newPlayerId("xproc-hold");
    const watcher = await joinedHere(playerId, "en");
    const buyer = await joinedOther(playerId, "en");
    await buyer.request("loot", { item: "gold", qty: 50 });
    const purchase = await buyer.request<PurchaseHold>("buy", { item: "potion", qty: 1 });
    await buyer.request("cancel", { holdId: purchase.holdId });

    const view = { holdId: purchase.holdId, item: "gold", quantity: purchase.price, expiresAt: purchase.expiresAt };
    await expect
      .poll(() => watcher.messages<InventoryMessage>("progression:inventory").flatMap((message) => message.holds ?? []), { timeout: 5_000, interval: 5 })
      .toEqual([
        { ...view, state: "held" },
        { ...view, state: "released" },
      ]);
  });
});
