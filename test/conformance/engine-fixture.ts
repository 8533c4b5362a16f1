import { afterEach } from "vitest";
import { createProgression } from "../../src/engine/create-progression.ts";
import type { Progression } from "../../src/engine/progression.ts";
import type { ProgressionOptions } from "../../src/engine/progression-options.ts";
import type { MilestoneDefinitionInput } from "../../src/definitions/milestone-schema.ts";
import type { DomainEnvelope, DomainTopic } from "../../src/events/domain-topics.ts";
import type { BackendFactory, BackendFixture } from "../support/backend-factories.ts";
import type { SubjectLoader } from "../../src/model/subject-state.ts";

export const DAY = 86_400_000;
export const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);

export interface FakeClock {
  now: number;
  advance(ms: number): void;
}

export interface DeliveredEvents {
  get<T extends DomainTopic>(topic: T): DomainEnvelope<T>[] | undefined;
}

export interface EngineFixture {
  readonly progression: Progression;
  readonly clock: FakeClock;
  readonly fixture: BackendFixture;
  /** Every domain event delivered so far, by topic. */
  readonly delivered: DeliveredEvents;
}

/** A definition with sensible defaults so each test shows only what matters to it. */
export function milestone(code: string, trigger: string, rule: MilestoneDefinitionInput["rule"], extra: Partial<MilestoneDefinitionInput> = {}): MilestoneDefinitionInput {
  return { code, title: `${code}.title`, description: `${code}.description`, icon: `${code}.png`, trigger, rule, ...extra };
}

/**
 * Registers an engine factory for the current describe block; every engine it made is closed and
 * its backend cleaned up after each test.
 */
export function useEngines(factory: BackendFactory) {
  const made: EngineFixture[] = [];
  afterEach(async () => {
    for (const engine of made.splice(0)) {
      await engine.progression.close();
      await engine.fixture.cleanup();
    }
  });
  return async (
    definitions: readonly MilestoneDefinitionInput[],
    options: Partial<ProgressionOptions> = {},
    backendOptions: { loader?: SubjectLoader } = {},
  ): Promise<EngineFixture> => {
    const fixture = await factory.create(backendOptions);
    const clock: FakeClock = { now: T0, advance(ms) { this.now += ms; } };
    const progression = createProgression({
      definitions,
      backend: fixture.backend,
      clock: () => clock.now,
      onMissingTranslations: () => {},
      ...options,
    });
    const delivered = new Map<DomainTopic, DomainEnvelope[]>();
    for (const topic of ["milestone.reached", "reward.claimed", "hold.expired", "inventory.changed"] as const) {
      progression.events.on(topic, "test-recorder", (envelope) => {
        delivered.set(topic, [...(delivered.get(topic) ?? []), envelope as DomainEnvelope]);
      });
    }
    const engine = { progression, clock, fixture, delivered: delivered as DeliveredEvents };
    made.push(engine);
    return engine;
  };
}

export const codes = (unlocks: readonly { code: string }[]): string[] => unlocks.map((u) => u.code);
