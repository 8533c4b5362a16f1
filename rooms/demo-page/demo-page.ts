/// <reference lib="dom" />
/**
 * The demo page's script (bundled by demo-page-routes.ts): join the arena as a player, play with buttons,
 * and watch colyseus-progression's client kit keep the milestones, inventory and shop holds up to date and
 * present the unlocks. Everything shown comes from `progression.state`; the buttons only send arena messages.
 */
import { Client, type Room } from "@colyseus/sdk";
import { attachProgression, createUnlockPresenter, rarityText, type ProgressionClient } from "../../client/index.ts";
import { create, elementOf } from "../../client/page-dom.ts";
import type { MilestoneProgress } from "../../src/model/progress.ts";
import type { HoldView, RejectionReason } from "../../src/protocol/client-messages.ts";
import type { PurchaseHold } from "../arena/arena-room.ts";

type Progression = ProgressionClient;

const tradeItems = ["gold", "potion", "elixir", "gem", "skaven_tail", "sword", "shield", "skaven_banner"];
const lootQuantity = 25;
/** What a series' targets count, for "next: 1000 kills" (the arena's one series counts kills). */
const seriesUnits: Readonly<Record<string, string>> = { slayer: "kills" };

const element = <T extends HTMLElement>(id: string): T => elementOf<T>("demo page (index.html)", id);

const joinForm = element<HTMLFormElement>("join-form");
const playerInput = element<HTMLInputElement>("player-id");
const localeSelect = element<HTMLSelectElement>("locale");
const joinError = element<HTMLParagraphElement>("join-error");
playerInput.value = new URLSearchParams(location.search).get("player") ?? `player-${Math.random().toString(36).slice(2, 7)}`;
localeSelect.value = new URLSearchParams(location.search).get("locale") === "de" ? "de" : "en";

for (const item of tradeItems) element<HTMLSelectElement>("trade-item").append(create("option", { value: item }, item));

joinForm.addEventListener("submit", (event) => {
  event.preventDefault();
  joinError.textContent = "";
  const button = joinForm.querySelector("button");
  if (button !== null) button.disabled = true;
  join(playerInput.value.trim(), localeSelect.value).catch((error: unknown) => {
    joinError.textContent = `Could not join: ${describe(error)}`;
    if (button !== null) button.disabled = false;
  });
});

async function join(playerId: string, locale: string): Promise<void> {
  const client = new Client(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}`);
  // The arena reads the player from { playerId } (a real game verifies a token); the plugin reads { locale }.
  const room = await client.joinOrCreate("arena", { playerId, locale });
  // resyncOnAttach: the join's snapshot may arrive before this line runs; a fresh one is asked for then.
  const progression = attachProgression(room, { resyncOnAttach: true });
  await progression.ready;
  // Unlock toasts and the admin's live previews, with the icons and webm files served under /assets/.
  const presenter = createUnlockPresenter({ assetBase: "/assets/" });
  presenter.attach(progression);

  element("join").hidden = true;
  element("game").hidden = false;
  const badge = element("player-badge");
  badge.hidden = false;
  badge.textContent = `Playing as ${playerId} · ${locale}`;
  startGame(room, progression);
}

function startGame(room: Room, progression: Progression): void {
  const log = logger();
  const purchases = new Map<string, PurchaseHold>();
  const milestones = milestoneList(progression, locale(progression), log);
  const holds = holdList(room, purchases, log);

  const render = (): void => {
    milestones.render(progression.state.milestones);
    renderInventory(progression);
    holds.render(progression.state.holds);
  };
  progression.on("change", render);
  progression.on("rejected", (reason: RejectionReason) => log(`Refused ${reason.type}: ${reason.message}`, "error"));
  progression.on("hold-expired", (hold: { holdId: string; quantity: number; item: string }) => {
    const purchase = purchases.get(hold.holdId);
    purchases.delete(hold.holdId);
    log(`The hold on ${hold.quantity} ${hold.item}${purchase === undefined ? "" : ` for ${purchase.qty} ${purchase.item}`} expired: the ${hold.item} is free again.`);
  });
  room.onLeave(() => log("Disconnected from the arena. Reload the page to join again.", "error"));
  render();
  // The countdowns: holds every quarter second, seasonal periods ("ends in 3 days") every half minute.
  setInterval(() => holds.tick(), 250);
  setInterval(() => milestones.render(progression.state.milestones), 30_000);

  for (const button of document.querySelectorAll<HTMLButtonElement>("[data-kill]")) {
    button.addEventListener("click", () => room.send("kill", { creature: button.dataset["kill"] }));
  }
  element("loot-gold").addEventListener("click", () => {
    room.send("loot", { item: "gold", qty: lootQuantity });
    log(`Looted ${lootQuantity} gold.`);
  });
  element("buy-potion").addEventListener("click", () => {
    room
      .request("buy", { item: "potion", qty: 1, requestId: crypto.randomUUID() })
      .then((hold: PurchaseHold) => {
        purchases.set(hold.holdId, hold);
        holds.render(progression.state.holds);
        log(`Potion reserved: ${hold.price} gold held until you confirm or cancel.`);
      })
      .catch((error: unknown) => log(`Buy potion refused: ${describe(error)}`, "error"));
  });
  element<HTMLFormElement>("trade-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const to = element<HTMLInputElement>("trade-to").value.trim();
    const item = element<HTMLSelectElement>("trade-item").value;
    const qty = Number(element<HTMLInputElement>("trade-qty").value);
    room
      .request("trade", { to, item, qty, requestId: crypto.randomUUID() })
      .then(() => log(`Gave ${qty} ${item} to ${to}.`))
      .catch((error: unknown) => log(`Trade refused: ${describe(error)}`, "error"));
  });
}

/** The milestone list, updated in place (rows keyed by code) so buttons keep their focus across pushes. */
function milestoneList(progression: Progression, dateLocale: string, log: Log) {
  const list = element<HTMLUListElement>("milestones");
  const rows = new Map<string, ReturnType<typeof milestoneRow>>();
  return {
    render(milestones: readonly MilestoneProgress[]): void {
      for (const milestone of milestones) {
        let row = rows.get(milestone.code);
        if (row === undefined) {
          row = milestoneRow(milestone.code, dateLocale, () => {
            progression
              .claim(milestone.code)
              .then(() => log(`Claimed ${progression.milestone(milestone.code)?.title ?? milestone.code}.`))
              .catch((error: unknown) => log(`Claim refused: ${describe(error)}`, "error"));
          });
          rows.set(milestone.code, row);
          list.append(row.item);
        }
        row.update(milestone);
      }
    },
  };
}

function milestoneRow(code: string, dateLocale: string, onClaim: () => void) {
  const item = create("li", { class: "milestone", "data-code": code });
  const icon = create("img", { class: "milestone-icon", alt: "", width: "48", height: "48" });
  const body = create("div", { class: "milestone-body" });
  const title = create("h3", { class: "milestone-title" });
  const description = create("p", { class: "milestone-description" });
  const meter = create("div", { class: "meter", role: "progressbar", "aria-valuemin": "0" });
  const fill = create("div", { class: "meter-fill" });
  const numbers = create("span", { class: "milestone-numbers" });
  const rewards = create("p", { class: "milestone-rewards" });
  // What the definitions add: the tier in its series, what a locked one needs, a seasonal period, the rarity.
  const series = create("p", { class: "milestone-series" });
  const requires = create("p", { class: "milestone-requires" });
  const period = create("p", { class: "milestone-period" });
  const rarity = create("p", { class: "milestone-rarity" });
  const status = create("span", { class: "milestone-status" });
  const claim = create("button", { type: "button", class: "primary claim" }, "Claim");
  claim.addEventListener("click", onClaim);
  meter.append(fill);
  const footer = create("div", { class: "milestone-footer" });
  footer.append(numbers, status, claim);
  body.append(title, description, series, requires, period, meter, rewards, rarity, footer);
  item.append(icon, body);

  return {
    item,
    update(milestone: MilestoneProgress): void {
      item.classList.toggle("masked", milestone.masked);
      item.dataset["status"] = milestone.status;
      title.textContent = milestone.title;
      description.textContent = milestone.description;
      if (milestone.masked) {
        // A hidden milestone not reached yet: nothing about it shows, not even how far the player is.
        icon.removeAttribute("src");
        icon.hidden = true;
        meter.hidden = true;
        meter.removeAttribute("aria-valuenow");
        numbers.textContent = "???";
        rewards.textContent = "";
      } else {
        icon.hidden = false;
        if (milestone.icon !== "") icon.src = `/assets/${milestone.icon}`;
        meter.hidden = false;
        const current = Math.min(milestone.current, milestone.target);
        meter.setAttribute("aria-valuemax", String(milestone.target));
        meter.setAttribute("aria-valuenow", String(current));
        meter.setAttribute("aria-label", `${milestone.title} progress`);
        fill.style.width = `${milestone.target === 0 ? 100 : (100 * current) / milestone.target}%`;
        numbers.textContent = `${current} / ${milestone.target}`;
        rewards.textContent = milestone.rewards.length === 0 ? "" : `Reward: ${milestone.rewards.map((reward) => `${reward.quantity} × ${reward.item}`).join(", ")}`;
      }
      // A server that predates these fields sends none of them.
      const missing = (milestone.requires ?? []).filter((required) => !required.awarded);
      const locked = milestone.status === "in_progress" && missing.length > 0;
      item.classList.toggle("locked", locked);
      show(series, seriesLine(milestone));
      if (milestone.series == null) delete item.dataset["series"];
      else item.dataset["series"] = milestone.series.id;
      show(requires, locked ? `Locked: requires ${listed(missing.map((required) => required.title))}` : "");
      show(period, periodLine(milestone, dateLocale, Date.now()));
      show(rarity, rarityText(milestone.rarity));
      status.textContent = milestone.status === "claimed" ? "Claimed" : milestone.status === "completed" ? "Reached" : "";
      claim.hidden = !(milestone.status === "completed" && milestone.rewards.length > 0);
    },
  };
}

function show(line: HTMLElement, text: string): void {
  line.textContent = text;
  line.hidden = text === "";
}

/** "Tier 2 of 3 · next: 1000 kills (Slayer III)"; a hidden next tier says only that there is one. */
function seriesLine(milestone: MilestoneProgress): string {
  const series = milestone.series;
  if (series == null) return "";
  const tier = `Tier ${series.order} of ${series.of}`;
  if (series.next === null) return `${tier} · the last tier`;
  if (series.next.masked) return `${tier} · next: a hidden tier`;
  const unit = seriesUnits[series.id];
  return `${tier} · next: ${series.next.target}${unit === undefined ? "" : ` ${unit}`} (${series.next.title})`;
}

/** "Seasonal: 1 Dec 2026 – 1 Mar 2027 · ends in 90 days"; "" for a milestone that is always open. */
function periodLine(milestone: MilestoneProgress, dateLocale: string, now: number): string {
  const from = milestone.availableFrom ?? null;
  const until = milestone.availableUntil ?? null;
  if (from === null && until === null) return "";
  const date = (at: number): string => new Date(at).toLocaleDateString(dateLocale, { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
  const span = from !== null && until !== null ? `${date(from)} – ${date(until)}` : from !== null ? `from ${date(from)}` : `until ${date(until ?? 0)}`;
  const reached = milestone.status !== "in_progress";
  let when: string;
  if (from !== null && now < from) when = `starts in ${duration(from - now)}`;
  else if (until !== null && now >= until) when = reached ? "ended" : "ended, can no longer be earned";
  else when = until === null ? "open" : `ends in ${duration(until - now)}`;
  return `Seasonal: ${span} · ${when}`;
}

/** "3 days", "5 hours", "12 minutes". */
function duration(ms: number): string {
  const minutes = Math.ceil(ms / 60_000);
  if (minutes < 120) return `${minutes} minute${minutes === 1 ? "" : "s"}`;
  const hours = Math.floor(ms / 3_600_000);
  if (hours < 48) return `${hours} hours`;
  return `${Math.floor(ms / 86_400_000)} days`;
}

/** "A", "A and B", "A, B and C". */
function listed(names: readonly string[]): string {
  return names.length <= 1 ? (names[0] ?? "") : `${names.slice(0, -1).join(", ")} and ${names.at(-1) ?? ""}`;
}

/** The locale the texts are in (dates are written in it too). */
function locale(progression: Progression): string {
  return progression.state.locale === "" ? "en" : progression.state.locale;
}

function renderInventory(progression: Progression): void {
  const body = element<HTMLTableSectionElement>("inventory");
  const balances = progression.state.inventory.filter((balance) => balance.free > 0 || balance.held > 0);
  element("inventory-empty").hidden = balances.length > 0;
  const rows = balances.map((balance) => {
    const row = create("tr", { "data-item": balance.item });
    row.append(create("th", { scope: "row" }, balance.item), create("td", { class: "free" }, String(balance.free)), create("td", { class: "held" }, String(balance.held)));
    return row;
  });
  body.replaceChildren(...rows);
}

/** Open shop holds with their countdown; the client kit drops a hold when it is settled or expires. */
function holdList(room: Room, purchases: Map<string, PurchaseHold>, log: Log) {
  const list = element<HTMLUListElement>("holds");
  const rows = new Map<string, { item: HTMLLIElement; countdown: HTMLElement; expiresAt: number }>();
  const settle = (holdId: string, action: "confirm" | "cancel", buttons: HTMLButtonElement[]): void => {
    for (const button of buttons) button.disabled = true;
    room
      .request(action, { holdId })
      .then(() => log(action === "confirm" ? "Purchase confirmed: the potion is yours." : "Purchase cancelled: the gold is free again."))
      .catch((error: unknown) => {
        for (const button of buttons) button.disabled = false;
        log(`${action === "confirm" ? "Confirm" : "Cancel"} refused: ${describe(error)}`, "error");
      });
  };
  const tick = (): void => {
    for (const row of rows.values()) {
      const seconds = Math.max(0, Math.ceil((row.expiresAt - Date.now()) / 1000));
      row.countdown.textContent = seconds > 0 ? `expires in ${seconds} s` : "expiring…";
    }
  };
  return {
    tick,
    render(holds: readonly HoldView[]): void {
      const open = new Set(holds.map((hold) => hold.holdId));
      for (const [holdId, row] of rows) {
        if (!open.has(holdId)) {
          row.item.remove();
          rows.delete(holdId);
        }
      }
      for (const hold of holds) {
        const purchase = purchases.get(hold.holdId);
        const existing = rows.get(hold.holdId);
        if (existing !== undefined) {
          const label = existing.item.querySelector(".hold-label");
          if (label !== null && purchase !== undefined) label.textContent = holdLabel(hold, purchase);
          continue;
        }
        const item = create("li", { class: "hold", "data-hold-id": hold.holdId });
        const label = create("span", { class: "hold-label" }, holdLabel(hold, purchase));
        const countdown = create("span", { class: "hold-countdown", role: "timer", "aria-label": "Time left on this hold" });
        const confirm = create("button", { type: "button", class: "primary" }, "Confirm");
        const cancel = create("button", { type: "button" }, "Cancel");
        confirm.addEventListener("click", () => settle(hold.holdId, "confirm", [confirm, cancel]));
        cancel.addEventListener("click", () => settle(hold.holdId, "cancel", [confirm, cancel]));
        item.append(label, countdown, confirm, cancel);
        list.append(item);
        rows.set(hold.holdId, { item, countdown, expiresAt: hold.expiresAt });
      }
      element("holds-empty").hidden = rows.size > 0;
      tick();
    },
  };
}

function holdLabel(hold: HoldView, purchase: PurchaseHold | undefined): string {
  return purchase === undefined ? `${hold.quantity} ${hold.item} held` : `${purchase.qty} × ${purchase.item} for ${hold.quantity} ${hold.item}`;
}

type Log = (text: string, kind?: "info" | "error") => void;

function logger(): Log {
  const list = element<HTMLOListElement>("log");
  return (text, kind = "info") => {
    const entry = create("li", { class: kind }, `${new Date().toLocaleTimeString()} ${text}`);
    list.prepend(entry);
    while (list.children.length > 8) list.lastElementChild?.remove();
  };
}

/** A rejection's reason (what the server said), or the error's message. */
function describe(error: unknown): string {
  const reason = (error as { reason?: Partial<RejectionReason> } | null)?.reason;
  if (reason?.message !== undefined) return reason.message;
  return error instanceof Error ? error.message : String(error);
}
