/// <reference lib="dom" />
/**
 * The admin tab's script (bundled into `admin-tab-page.js`, served at `<prefix>/tab.js`). Every data call goes
 * to the admin JSON routes next to the page with `Authorization: Bearer <token>`; the token is typed once and
 * kept in this tab's sessionStorage. Previews play with the client kit's presenter, as a player sees them.
 */
import { createUnlockPresenter, type PreviewMessage, type UnlockPresenter } from "../../client/index.ts";
import { create, elementOf } from "../../client/page-dom.ts";
import type { MilestoneCatalog, MilestoneCatalogEntry } from "../../src/engine/milestone-catalog.ts";
import type { SimulationReport } from "../../src/history/simulate.ts";
import type { MilestoneProgress } from "../../src/model/progress.ts";
import type { UnlockPayload } from "../../src/model/unlock-payload.ts";

const prefix = location.pathname.replace(/\/+$/, "");
const tokenKey = "colyseus-progression:admin-token";
const assetBaseKey = "colyseus-progression:admin-asset-base";

interface ConnectedPlayer {
  readonly subject: string;
  readonly clients: number;
  readonly locales: readonly string[];
}

/** A refusal from the admin routes: their `{ code, message }`. */
class AdminRequestError extends Error {
  readonly status: number;
  readonly code: string;
  readonly problems: readonly unknown[];
  constructor(status: number, code: string, message: string, problems: readonly unknown[] = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.problems = problems;
  }
}

const element = <T extends HTMLElement>(id: string): T => elementOf<T>("admin tab (admin-tab.html)", id);

const tokenInput = element<HTMLInputElement>("token");
const errorLine = element<HTMLParagraphElement>("error");
const localeSelect = element<HTMLSelectElement>("locale");
const assetBaseInput = element<HTMLInputElement>("asset-base");
let catalog: MilestoneCatalog | undefined;
let presenter: UnlockPresenter | undefined;

// Icons and webm files are relative paths in the definitions: the game serves them somewhere (the demo at /assets/).
assetBaseInput.value = localStorage.getItem(assetBaseKey) ?? new URLSearchParams(location.search).get("assets") ?? "/assets/";
assetBaseInput.addEventListener("change", () => {
  localStorage.setItem(assetBaseKey, assetBaseInput.value);
  presenter?.destroy();
  presenter = undefined;
});
const currentPresenter = (): UnlockPresenter => (presenter ??= createUnlockPresenter({ assetBase: assetBaseInput.value }));

async function api<T>(path: string, body?: unknown): Promise<T> {
  const token = sessionStorage.getItem(tokenKey) ?? "";
  const response = await fetch(`${prefix}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const payload = (await response.json().catch(() => ({}))) as { code?: string; message?: string; problems?: unknown[] };
  if (!response.ok) {
    throw new AdminRequestError(response.status, payload.code ?? `HTTP_${response.status}`, payload.message ?? `${path} answered ${response.status}`, payload.problems);
  }
  return payload as T;
}

/** Shows what went wrong; a refused token signs out, so the next try types it again. */
function report(error: unknown): void {
  errorLine.textContent = error instanceof Error ? error.message : String(error);
  if (error instanceof AdminRequestError && error.status === 401) signOut(false);
}

function run(task: () => Promise<void>): void {
  errorLine.textContent = "";
  task().catch(report);
}

function signOut(clearError = true): void {
  sessionStorage.removeItem(tokenKey);
  document.body.classList.add("signed-out");
  element<HTMLTableSectionElement>("catalog").querySelector("tbody")?.replaceChildren();
  if (clearError) errorLine.textContent = "";
}

element<HTMLFormElement>("sign-in").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(tokenKey, tokenInput.value.trim());
  tokenInput.value = "";
  run(loadCatalog);
});
element("sign-out").addEventListener("click", () => signOut());

async function loadCatalog(): Promise<void> {
  catalog = await api<MilestoneCatalog>("/catalog");
  document.body.classList.remove("signed-out");
  const chosen = localeSelect.value;
  localeSelect.replaceChildren(...catalog.locales.map((locale) => create("option", { value: locale }, locale)));
  localeSelect.value = catalog.locales.includes(chosen) ? chosen : catalog.defaultLocale;
  const liveLocale = element<HTMLSelectElement>("live-locale");
  liveLocale.replaceChildren(create("option", { value: "" }, "each client's own"), ...catalog.locales.map((locale) => create("option", { value: locale }, locale)));
  for (const id of ["live-milestone", "explain-milestone"]) {
    element<HTMLSelectElement>(id).replaceChildren(...catalog.milestones.map((entry) => create("option", { value: entry.code }, entry.code)));
  }
  const definitions = element<HTMLTextAreaElement>("simulate-definitions");
  if (definitions.value === "") definitions.value = JSON.stringify(catalog.milestones.map((entry) => entry.definition), null, 2);
  renderCatalog();
  await loadPlayers();
}

function renderCatalog(): void {
  if (catalog === undefined) return;
  const body = element<HTMLTableElement>("catalog").tBodies[0];
  body?.replaceChildren(...catalog.milestones.map((entry) => catalogRow(entry)));
}

function catalogRow(entry: MilestoneCatalogEntry): HTMLTableRowElement {
  const row = create("tr", { "data-code": entry.code });
  const locale = localeSelect.value;
  const shown = entry.texts[locale] ?? entry.texts[catalog?.defaultLocale ?? ""];

  const name = create("th", { scope: "row" });
  const icon = create("img", { class: "icon", alt: "", src: resolveAsset(entry.definition.icon) });
  icon.addEventListener("error", () => (icon.hidden = true), { once: true });
  name.append(icon, " ", create("strong", {}, shown?.title ?? entry.code), create("br"), create("span", { class: "code" }, entry.code));

  const definition = create("td");
  const { rule, trigger, rewards, animation } = entry.definition;
  definition.append(
    create("div", {}, `${trigger} · ${describeRule(rule as unknown as Record<string, unknown>)}`),
    create("div", { class: "note" }, `rewards: ${rewards.length === 0 ? "none" : rewards.map((reward) => `${reward.quantity} × ${reward.item}`).join(", ")}${entry.definition.autoClaim === true ? " (auto-claimed)" : ""} · animation: ${animation.kind === "webm" ? `webm ${animation.src}` : animation.kind === "custom" ? `custom ${animation.name}` : "confetti"}`),
  );
  const json = create("details");
  json.append(create("summary", {}, "JSON"), create("pre", {}, JSON.stringify(entry.definition, null, 2)));
  definition.append(json);

  const texts = create("td", { class: "texts" });
  for (const [textLocale, text] of Object.entries(entry.texts)) {
    const line = create("div", { "data-locale": textLocale });
    line.append(create("span", { class: "locale" }, textLocale), `${text.title} — ${text.description}`);
    if (text.missing.length > 0) line.append(" ", create("span", { class: "missing", title: "falls back to the default locale" }, `missing translation: ${text.missing.join(", ")}`));
    texts.append(line);
  }

  const flags = create("td");
  if (entry.hidden) flags.append(create("span", { class: "tag hidden" }, "hidden"));
  flags.append(create("span", { class: entry.active ? "tag active" : "tag inactive" }, entry.active ? "active" : "inactive"));

  const actions = create("td");
  const preview = create("button", { type: "button", "aria-label": "Preview", title: `Preview ${entry.code} in ${locale}` }, "Preview");
  preview.addEventListener("click", () => run(() => previewHere(entry.code)));
  actions.append(preview);

  row.append(
    name,
    definition,
    texts,
    flags,
    requiresCell(entry),
    seriesCell(entry),
    periodCell(entry, Date.now()),
    rarityCell(entry),
    create("td", { class: "number reached" }, String(entry.reached)),
    create("td", { class: "number claimed" }, String(entry.claimed)),
    actions,
  );
  return row;
}

function requiresCell(entry: MilestoneCatalogEntry): HTMLTableCellElement {
  const cell = create("td", { class: "requires" });
  // A server that predates preconditions sends none.
  const requires = entry.requires ?? [];
  if (requires.length === 0) cell.append(create("span", { class: "note", title: "no preconditions" }, "—"));
  else cell.append(...requires.map((code) => create("div", { class: "code" }, code)));
  return cell;
}

function seriesCell(entry: MilestoneCatalogEntry): HTMLTableCellElement {
  const cell = create("td", { class: "series" });
  const series = entry.series ?? null;
  if (series === null) cell.append(create("span", { class: "note", title: "not in a series" }, "—"));
  else cell.append(create("div", {}, `${series.id} · ${series.order} of ${series.of}`), create("div", { class: "note code" }, series.tiers.join(" → ")));
  return cell;
}

function periodCell(entry: MilestoneCatalogEntry, now: number): HTMLTableCellElement {
  const cell = create("td", { class: "period" });
  const from = entry.availableFrom ?? null;
  const until = entry.availableUntil ?? null;
  if (from === null && until === null) {
    cell.append(create("span", { class: "note", title: "always available" }, "—"));
    return cell;
  }
  const state = from !== null && now < from ? "upcoming" : until !== null && now >= until ? "closed" : "open";
  cell.append(
    create("span", { class: `tag ${state}` }, state),
    create("div", { class: "code" }, `from ${from === null ? "—" : new Date(from).toISOString()}`),
    create("div", { class: "code" }, `until ${until === null ? "—" : new Date(until).toISOString()}`),
  );
  return cell;
}

function rarityCell(entry: MilestoneCatalogEntry): HTMLTableCellElement {
  const rarity = entry.rarity ?? null;
  if (rarity === null) return create("td", { class: "number rarity note", title: "no rarity known yet" }, "—");
  const cell = create("td", { class: "number rarity" }, `${rarity.percent}%`);
  cell.title = `${rarity.holders} of ${rarity.activePlayers} players active in the last ${rarity.windowDays} days hold it`;
  cell.append(create("div", { class: "note" }, `${rarity.holders} / ${rarity.activePlayers}`));
  return cell;
}

/** Plays the unlock in this tab, as the player's client would: the server resolves the texts, nothing is awarded. */
async function previewHere(code: string): Promise<void> {
  const unlock = await api<UnlockPayload>(`/preview?code=${encodeURIComponent(code)}&locale=${encodeURIComponent(localeSelect.value)}`);
  const { subject: _subject, locale: _locale, ...shown } = unlock;
  const preview: PreviewMessage = { ...shown, preview: true };
  currentPresenter().show(preview);
}

function resolveAsset(path: string): string {
  return /^([a-z]+:|\/)/i.test(path) ? path : `${assetBaseInput.value}${path}`;
}

function describeRule(rule: Record<string, unknown>): string {
  const where = rule["where"] !== undefined ? ` where ${Object.entries(rule["where"] as Record<string, unknown>).map(([key, value]) => `${key}=${String(value)}`).join(", ")}` : "";
  const settings = Object.entries(rule)
    .filter(([key]) => key !== "type" && key !== "where")
    .map(([key, value]) => `${key} ${typeof value === "object" ? JSON.stringify(value) : String(value)}`)
    .join(", ");
  return `${String(rule["type"])}${settings === "" ? "" : ` (${settings})`}${where}`;
}

localeSelect.addEventListener("change", renderCatalog);

// Preview on a live player.
async function loadPlayers(): Promise<void> {
  const select = element<HTMLSelectElement>("live-player");
  const { players } = await api<{ players: ConnectedPlayer[] }>("/players");
  // Read after the fetch: the admin may have picked a player while it was in flight.
  const previous = select.value;
  select.replaceChildren(
    ...(players.length === 0
      ? [create("option", { value: "" }, "no player connected")]
      : players.map((player) => create("option", { value: player.subject }, `${player.subject} (${player.clients} client${player.clients === 1 ? "" : "s"}, ${player.locales.join("/")})`))),
  );
  if (players.some((player) => player.subject === previous)) select.value = previous;
}
element("refresh-players").addEventListener("click", () => run(loadPlayers));
element<HTMLFormElement>("live-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const status = element("live-status");
  status.textContent = "";
  run(async () => {
    const subject = element<HTMLSelectElement>("live-player").value;
    const code = element<HTMLSelectElement>("live-milestone").value;
    const locale = element<HTMLSelectElement>("live-locale").value;
    const sent = await api<{ clients: number }>("/preview-live", { subject, code, ...(locale === "" ? {} : { locale }) });
    status.textContent = `Sent the preview of ${code} to ${subject}: ${sent.clients} client${sent.clients === 1 ? "" : "s"} on this server (and any on other servers).`;
  });
});

// Progress lookup.
element<HTMLFormElement>("progress-form").addEventListener("submit", (event) => {
  event.preventDefault();
  run(async () => {
    const subject = element<HTMLInputElement>("progress-player").value.trim();
    const { milestones } = await api<{ milestones: MilestoneProgress[] }>(`/progress?subject=${encodeURIComponent(subject)}&locale=${encodeURIComponent(localeSelect.value)}`);
    const body = element<HTMLTableElement>("progress").tBodies[0];
    body?.replaceChildren(
      ...milestones.map((milestone) => {
        const row = create("tr", { "data-code": milestone.code });
        row.append(
          create("th", { scope: "row" }, milestone.masked ? `${milestone.code} (hidden)` : milestone.title),
          create("td", { class: "number" }, `${milestone.current} / ${milestone.target}`),
          create("td", { class: "status" }, milestone.status.replace("_", " ")),
        );
        return row;
      }),
    );
  });
});

// Explain.
element<HTMLFormElement>("explain-form").addEventListener("submit", (event) => {
  event.preventDefault();
  run(async () => {
    const subject = element<HTMLInputElement>("explain-player").value.trim();
    const code = element<HTMLSelectElement>("explain-milestone").value;
    const explanation = await api<unknown>(`/explain?subject=${encodeURIComponent(subject)}&code=${encodeURIComponent(code)}`);
    const result = element("explain-result");
    result.hidden = false;
    result.textContent = JSON.stringify(explanation, null, 2);
  });
});

// Simulate.
element<HTMLFormElement>("simulate-form").addEventListener("submit", (event) => {
  event.preventDefault();
  run(async () => {
    let definitions: unknown;
    try {
      definitions = JSON.parse(element<HTMLTextAreaElement>("simulate-definitions").value);
    } catch (error) {
      throw new Error(`Definitions JSON does not parse: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    const table = element<HTMLTableElement>("simulate-result");
    try {
      const report = await api<SimulationReport>("/simulate", { definitions });
      table.hidden = false;
      table.tBodies[0]?.replaceChildren(
        ...report.milestones.map((milestone) => {
          const row = create("tr", { "data-code": milestone.code });
          row.append(
            create("th", { scope: "row", class: "code" }, milestone.code),
            create("td", {}, milestone.change),
            create("td", { class: "number" }, String(milestone.qualifying)),
            create("td", { class: "number" }, String(milestone.wouldAward)),
            create("td", { class: "number" }, String(milestone.holders)),
          );
          return row;
        }),
      );
    } catch (error) {
      table.hidden = true;
      if (error instanceof AdminRequestError && error.problems.length > 0) throw new Error(`${error.message}: ${JSON.stringify(error.problems)}`, { cause: error });
      throw error;
    }
  });
});

// A token from earlier in this tab's session signs in again on reload.
if (sessionStorage.getItem(tokenKey) !== null) run(loadCatalog);
