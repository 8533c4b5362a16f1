import { beforeAll, describe, expect, it } from "vitest";
import type { Client } from "@colyseus/core";
import { describeArena, newPlayerId, type ArenaServer } from "./support/arena-server.ts";

let arena: ArenaServer;

/** A game whose own subjectOf maps one account to an id of the wrong shape (a bug the plugin must catch). */
const badSubjectOf = (client: Client): string | undefined => {
  const id = (client.auth as { id?: string } | undefined)?.id;
  return id?.startsWith("spaced-") === true ? `player ${id}` : id;
};

describeArena({ host: { subjectOf: badSubjectOf } }, (handle) => {
  beforeAll(() => {
    arena = handle;
  });

  describe("subject ids: one shape everywhere", () => {
    it("the plugin refuses a join whose subject is not a subject id, saying why", async () => {
      await expect(arena.sdk.joinOrCreate(arena.roomName, { playerId: newPlayerId("spaced") })).rejects.toThrow(/subject id/);
      // A well-formed one joins.
      const player = await arena.join(newPlayerId("fine"));
      await player.waitFor("progression:snapshot");
    });

    it("the arena's onAuth takes every shape the engine does (@ included) and refuses the rest", async () => {
      const email = `${newPlayerId("mail")}@example.com`;
      const player = await arena.join(email);
      expect((await player.waitFor<{ subject: string }>("progression:snapshot")).subject).toBe(email);
      for (const playerId of ["{ghost}", "a/b", "x".repeat(129)]) {
        await expect(arena.sdk.joinOrCreate(arena.roomName, { playerId }), playerId).rejects.toThrow(/playerId/);
      }
    });
  });
});
