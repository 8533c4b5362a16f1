import { LocalPresence } from "@colyseus/core";
import { describe, expect, it } from "vitest";
import { createProgressionHost } from "../../plugins/progression-host.ts";
import { createArenaProgression } from "../../rooms/arena/arena-progression.ts";
import { ErrorCode } from "../../src/errors/error-codes.ts";

/**
 * Two copies of @colyseus/core (a game's and a private one) would give the plugin a matchmaker that never
 * starts: every join would fail deep inside Colyseus. The host says what is wrong instead. (This file runs
 * in its own process, where no Colyseus server was ever started.)
 */
describe("a server from another copy of @colyseus/core", () => {
  it("install() refuses a server that is not this @colyseus/core's Server", async () => {
    const progression = createArenaProgression({ onMissingTranslations: () => {} });
    const host = createProgressionHost(progression);
    try {
      // What a Server from another copy looks like from here: the same shape, another class.
      const foreign = { gracefullyShutdown: async () => {}, onShutdown: () => {}, onBeforeShutdown: () => {} };
      expect(() => host.install(foreign)).toThrow(expect.objectContaining({ code: ErrorCode.Unsupported, message: expect.stringContaining("npm ls @colyseus/core") }));
    } finally {
      await host.close();
      await progression.close();
    }
  });

  it("a join in a process whose matchmaker never started is refused with the same explanation", async () => {
    const progression = createArenaProgression({ onMissingTranslations: () => {} });
    const host = createProgressionHost(progression);
    try {
      await expect(host.attach("p1", { locale: "en", send: () => {} })).rejects.toMatchObject({
        code: ErrorCode.Unsupported,
        message: expect.stringContaining("two different copies of @colyseus/core"),
      });
    } finally {
      await host.close();
    }
    // With an explicit presence the host needs no matchmaker.
    const explicit = createProgressionHost(progression, { presence: new LocalPresence() });
    const detach = await explicit.attach("p1", { locale: "en", send: () => {} });
    detach();
    await explicit.close();
    await progression.close();
  });
});
