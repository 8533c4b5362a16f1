import { describe } from "vitest";
import { backendFactories } from "../support/backend-factories.ts";
import { badInputConformance } from "./bad-input-suite.ts";
import { guardsConformance } from "./guards-suite.ts";
import { historyConformance } from "./history-suite.ts";
import { ledgerConformance } from "./ledger-suite.ts";
import { preconditionsConformance } from "./preconditions-suite.ts";
import { progressionConformance } from "./progression-suite.ts";
import { propertyConformance } from "./property-suite.ts";
import { seasonalConformance } from "./seasonal-suite.ts";
import { rarityConformance } from "./rarity-suite.ts";
import { rawEventsConformance } from "./raw-events-suite.ts";

// One suite, every backend: semantics never differ between memory and Redis.
for (const factory of backendFactories) {
  describe(`${factory.name} backend`, () => {
    describe("progression", () => progressionConformance(factory));
    describe("history", () => historyConformance(factory));
    describe("ledger", () => ledgerConformance(factory));
    describe("bad input", () => badInputConformance(factory));
    describe("properties", () => propertyConformance(factory));
    describe("preconditions", () => preconditionsConformance(factory));
    describe("seasonal", () => seasonalConformance(factory));
    describe("stat guards", () => guardsConformance(factory));
    describe("rarity", () => rarityConformance(factory));
    describe("raw events", () => rawEventsConformance(factory));
  });
}
