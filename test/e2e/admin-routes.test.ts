import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { progressionAdminRoutes } from "../../plugins/admin-routes.ts";
import type { PreviewMessage } from "../../src/protocol/client-messages.ts";
import { newPlayerId, settle, describeArena, type ArenaServer, type TestClient } from "./support/arena-server.ts";

const token = randomBytes(24).toString("hex");
let arena: ArenaServer;

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** An HTTP call to the arena's server, the way the admin tab makes it. */
async function call(path: string, init: { method?: string; auth?: string | null; body?: unknown } = {}): Promise<Answer> {
  const auth = init.auth === undefined ? `Bearer ${token}` : init.auth;
  const response = await fetch(`http://127.0.0.1:${arena.port}${path}`, {
    method: init.method ?? "GET",
    headers: { ...(auth === null ? {} : { authorization: auth }), ...(init.body === undefined ? {} : { "content-type": "application/json" }) },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  expect(response.headers.get("content-type")).toContain("application/json");
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function joined(playerId: string, options: Record<string, unknown> = {}, newRoom = false): Promise<TestClient> {
  const player = newRoom ? await arena.joinNewRoom(playerId, options) : await arena.join(playerId, options);
  await player.waitFor("progression:snapshot");
  return player;
}

interface CatalogEntry {
  code: string;
  hidden: boolean;
  active: boolean;
  definition: { code: string };
  texts: Record<string, { title: string; description: string; missing: string[] }>;
  reached: number;
  claimed: number;
}

async function catalog(): Promise<Map<string, CatalogEntry>> {
  const answer = await call("/progression/admin/catalog");
  expect(answer.status).toBe(200);
  return new Map((answer.body["milestones"] as CatalogEntry[]).map((entry) => [entry.code, entry]));
}

describeArena(
  {
    routes: (progression, host) => ({
      ...progressionAdminRoutes(progression, { token, host }),
      // The same routes mounted without a host: players and preview-live cannot work there.
      ...Object.fromEntries(Object.entries(progressionAdminRoutes(progression, { token, prefix: "/hostless" })).map(([name, endpoint]) => [`hostless-${name}`, endpoint])),
    }),
  },
  (handle) => {
    beforeAll(() => {
      arena = handle;
    });

    describe("the token", () => {
      it("refuses every data route without it, and says how to send it", async () => {
        for (const [method, path] of [
          ["GET", "/progression/admin/catalog"],
          ["GET", "/progression/admin/players"],
          ["POST", "/progression/admin/preview-live"],
          ["GET", "/progression/admin/milestones"],
        ] as const) {
          const answer = await call(path, { method, auth: null, ...(method === "POST" ? { body: { subject: "x", code: "slayer_10" } } : {}) });
          expect(answer).toEqual({ status: 401, body: { code: "UNAUTHORIZED", message: expect.stringContaining("send Authorization: Bearer <admin token>") } });
        }
        const notBearer = await call("/progression/admin/catalog", { auth: `Basic ${token}` });
        expect(notBearer.status).toBe(401);
        expect(notBearer.body["message"]).toContain("no admin token");
      });

      it("refuses a wrong token, saying it is wrong; the right one works whatever the scheme's case", async () => {
        const wrong = await call("/progression/admin/catalog", { auth: `Bearer ${token.slice(1)}x` });
        expect(wrong.status).toBe(401);
        expect(wrong.body).toEqual({ code: "UNAUTHORIZED", message: expect.stringContaining("wrong admin token") });
        const longer = await call("/progression/admin/players", { auth: `Bearer ${token}${token}` });
        expect(longer.body["message"]).toContain("wrong admin token");
        expect((await call("/progression/admin/catalog", { auth: `bearer ${token}` })).status).toBe(200);
      });
    });

    describe("GET /catalog", () => {
      it("lists every milestone in definition order with its definition, texts per locale, flags and live reached/claimed counts", async () => {
        const before = await catalog();
        expect([...before.keys()]).toEqual(arena.progression.milestoneCodes());
        const whisperer = before.get("rat_whisperer");
        expect(whisperer).toMatchObject({ code: "rat_whisperer", hidden: true, active: true, definition: expect.objectContaining({ code: "rat_whisperer" }) });
        expect(whisperer?.texts["de"]).toMatchObject({ title: "Rattenflüsterer", description: "Besiege 5 Riesenratten." });
        expect(whisperer?.texts["en"]).toMatchObject({ title: "Rat Whisperer", missing: [] });

        const player = await joined(newPlayerId("catalog"));
        for (let i = 0; i < 10; i += 1) player.send("kill", { creature: "goblin" });
        await player.waitFor("progression:unlocked", (unlock) => unlock["code"] === "slayer_10");
        await player.request("progression:claim", { code: "slayer_10" });
        const after = await catalog();
        const delta = (code: string) => ({
          reached: (after.get(code)?.reached ?? 0) - (before.get(code)?.reached ?? 0),
          claimed: (after.get(code)?.claimed ?? 0) - (before.get(code)?.claimed ?? 0),
        });
        expect(delta("slayer_10")).toEqual({ reached: 1, claimed: 1 });
        expect(delta("first_blood")).toEqual({ reached: 1, claimed: 1 }); // autoClaim
        expect(delta("slayer_100")).toEqual({ reached: 0, claimed: 0 });
      });
    });

    describe("GET /players and POST /preview-live", () => {
      it("lists the players connected to this process with their clients and locales", async () => {
        const playerId = newPlayerId("listed");
        await joined(playerId, { locale: "de" });
        await joined(playerId, { locale: "en" }, true);
        const answer = await call("/progression/admin/players");
        expect(answer.status).toBe(200);
        expect((answer.body["players"] as { subject: string }[]).filter((player) => player.subject === playerId)).toEqual([
          { subject: playerId, clients: 2, locales: ["de", "en"] },
        ]);
      });

      it("previews a milestone on a live player's clients, awarding nothing", async () => {
        const playerId = newPlayerId("live");
        const english = await joined(playerId, { locale: "en" });
        const german = await joined(playerId, { locale: "de" }, true);
        await settle(arena.host, english, german);
        const progressBefore = await arena.progression.progress(playerId);
        const statsBefore = await arena.progression.milestoneStats();

        const answer = await call("/progression/admin/preview-live", { method: "POST", body: { subject: playerId, code: "skaven_slayer" } });
        expect(answer).toEqual({ status: 200, body: { subject: playerId, code: "skaven_slayer", clients: 2 } });
        expect(await english.waitFor<PreviewMessage>("progression:preview")).toMatchObject({ code: "skaven_slayer", title: "Skaven Slayer", preview: true });
        expect(await german.waitFor<PreviewMessage>("progression:preview")).toMatchObject({ code: "skaven_slayer", title: "Skavenjäger", preview: true });

        const inGerman = await call("/progression/admin/preview-live", { method: "POST", body: { subject: playerId, code: "skaven_slayer", locale: "de" } });
        expect(inGerman.body["clients"]).toBe(2);
        await english.waitFor<PreviewMessage>("progression:preview", (preview) => preview.title === "Skavenjäger");

        await settle(arena.host, english, german);
        expect(await arena.progression.progress(playerId)).toEqual(progressBefore);
        expect(await arena.progression.milestoneStats()).toEqual(statsBefore);
        expect(english.messages("progression:unlocked")).toEqual([]);
      });

      it("answers 404 for an unknown milestone, 409 for a player with no client here, 400 for a malformed body; sends nothing", async () => {
        const playerId = newPlayerId("refused");
        const player = await joined(playerId);
        const unknown = await call("/progression/admin/preview-live", { method: "POST", body: { subject: playerId, code: "no_such_milestone" } });
        expect(unknown.status).toBe(404);
        expect(unknown.body).toMatchObject({ code: "UNKNOWN_MILESTONE", message: expect.stringContaining("no_such_milestone") });

        const absent = newPlayerId("absent");
        const offline = await call("/progression/admin/preview-live", { method: "POST", body: { subject: absent, code: "slayer_10" } });
        expect(offline.status).toBe(409);
        expect(offline.body).toEqual({ code: "NOT_CONNECTED", message: expect.stringContaining(absent) });

        for (const body of [{ code: "slayer_10" }, { subject: playerId, code: "slayer_10", extra: true }, { subject: playerId, code: 7 }]) {
          const malformed = await call("/progression/admin/preview-live", { method: "POST", body });
          expect(malformed.status).toBe(400);
          expect(malformed.body).toMatchObject({ code: "INVALID_INPUT", message: expect.stringContaining('"subject"') });
        }
        await player.roundTrip();
        expect(player.messages("progression:preview")).toEqual([]);
      });

      it("answers 404 NO_HOST on routes mounted without a host, naming the option", async () => {
        for (const [method, path] of [
          ["GET", "/hostless/players"],
          ["POST", "/hostless/preview-live"],
        ] as const) {
          const answer = await call(path, { method, ...(method === "POST" ? { body: { subject: "x", code: "slayer_10" } } : {}) });
          expect(answer.status).toBe(404);
          expect(answer.body).toEqual({ code: "NO_HOST", message: expect.stringContaining("host") });
        }
        expect((await call("/hostless/catalog")).status).toBe(200);
      });
    });
  },
);
