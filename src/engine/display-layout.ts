import type { MilestoneDefinition } from "../definitions/milestone-schema.ts";

/**
 * What the definitions say about where a milestone is shown: its series (tiers sorted by `series.order`,
 * active milestones only) and its seasonal period in epoch ms. Computed once per loaded definition set.
 */
export interface DisplayLayout {
  /** Per series id, its active tiers in order. */
  readonly series: ReadonlyMap<string, readonly MilestoneDefinition[]>;
  /** Per code with a period, its bounds (from inclusive, until exclusive; null: open on that side). */
  readonly periods: ReadonlyMap<string, Period>;
}

export interface Period {
  readonly availableFrom: number | null;
  readonly availableUntil: number | null;
}

const noPeriod: Period = { availableFrom: null, availableUntil: null };

export function displayLayoutOf(definitions: Iterable<MilestoneDefinition>): DisplayLayout {
  const series = new Map<string, MilestoneDefinition[]>();
  const periods = new Map<string, Period>();
  for (const definition of definitions) {
    if (definition.series !== undefined && definition.active) {
      const tiers = series.get(definition.series.id);
      if (tiers === undefined) series.set(definition.series.id, [definition]);
      else tiers.push(definition);
    }
    if (definition.availableFrom !== undefined || definition.availableUntil !== undefined) {
      periods.set(definition.code, { availableFrom: epochOf(definition.availableFrom), availableUntil: epochOf(definition.availableUntil) });
    }
  }
  // Stable: equal orders (rejected at load) would keep definition order.
  for (const tiers of series.values()) tiers.sort((a, b) => (a.series?.order ?? 0) - (b.series?.order ?? 0));
  return { series, periods };
}

/**
 * The tiers of `definition`'s series and its index among them, or undefined outside a series. An inactive
 * milestone (a preview, the admin catalog) is placed among the active tiers as if it were one of them.
 */
export function seriesPlaceOf(layout: DisplayLayout, definition: MilestoneDefinition): { readonly tiers: readonly MilestoneDefinition[]; readonly index: number } | undefined {
  if (definition.series === undefined) return undefined;
  const active = layout.series.get(definition.series.id) ?? [];
  const index = active.indexOf(definition);
  if (index !== -1) return { tiers: active, index };
  const order = definition.series.order;
  const at = active.findIndex((tier) => (tier.series?.order ?? 0) > order);
  const tiers = at === -1 ? [...active, definition] : [...active.slice(0, at), definition, ...active.slice(at)];
  return { tiers, index: at === -1 ? active.length : at };
}

export function periodOf(layout: DisplayLayout, code: string): Period {
  return layout.periods.get(code) ?? noPeriod;
}

function epochOf(iso: string | undefined): number | null {
  if (iso === undefined) return null;
  const epoch = Date.parse(iso);
  return Number.isNaN(epoch) ? null : epoch;
}
