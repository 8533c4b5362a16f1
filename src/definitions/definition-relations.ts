import type { MilestoneDefinition } from "./milestone-schema.ts";

/**
 * Checks that span definitions, after each one passed its schema: preconditions (`requires`) name
 * defined milestones and form no cycle, tiers of one series have unique orders, and a seasonal
 * milestone's period is not empty. Every problem names the milestone codes involved, so one load
 * reports all of them.
 */

export interface RelationProblem {
  /** The milestone the problem is filed under (the first of a cycle or a series clash). */
  readonly code: string;
  /** Every defined milestone the problem involves. */
  readonly codes: readonly string[];
  /** Required codes no definition has. */
  readonly unknown?: readonly string[];
  readonly path: string;
  readonly message: string;
}

/**
 * `known`: every code in the load, also of definitions that failed their schema (a requirement of
 * one of those is reported with it, not as unknown).
 */
export function relationProblems(definitions: readonly MilestoneDefinition[], known: ReadonlySet<string>): RelationProblem[] {
  const problems: RelationProblem[] = [];
  for (const definition of definitions) {
    const { code } = definition;
    if (definition.availableFrom !== undefined && definition.availableUntil !== undefined && Date.parse(definition.availableFrom) >= Date.parse(definition.availableUntil)) {
      problems.push({
        code,
        codes: [code],
        path: "availableFrom",
        message: `milestone ${JSON.stringify(code)}: availableFrom (${definition.availableFrom}) must be before availableUntil (${definition.availableUntil}); the period would be empty`,
      });
    }
    if (definition.requires.includes(code)) {
      problems.push({ code, codes: [code], path: "requires", message: `milestone ${JSON.stringify(code)}: requires itself; remove ${JSON.stringify(code)} from its requires` });
    }
    const unknown = [...new Set(definition.requires.filter((required) => !known.has(required)))];
    if (unknown.length > 0) {
      problems.push({
        code,
        codes: [code],
        unknown,
        path: "requires",
        message: `milestone ${JSON.stringify(code)}: requires ${unknown.map((required) => JSON.stringify(required)).join(", ")}, which ${unknown.length === 1 ? "is" : "are"} not defined; define ${unknown.length === 1 ? "it" : "them"} or remove ${unknown.length === 1 ? "it" : "them"} from requires`,
      });
    }
  }
  problems.push(...cycleProblems(definitions), ...seriesProblems(definitions));
  return problems;
}

/** Each cycle of `requires` (a strongly connected component of two or more milestones), once. */
function cycleProblems(definitions: readonly MilestoneDefinition[]): RelationProblem[] {
  const requires = new Map(definitions.map((definition) => [definition.code, definition.requires]));
  // Tarjan's algorithm, iterative so a long chain cannot overflow the stack.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  for (const root of requires.keys()) {
    if (index.has(root)) continue;
    const frames: { code: string; next: number }[] = [{ code: root, next: 0 }];
    index.set(root, counter);
    low.set(root, counter);
    counter += 1;
    stack.push(root);
    onStack.add(root);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1] as { code: string; next: number };
      const edges = (requires.get(frame.code) ?? []).filter((target) => requires.has(target) && target !== frame.code);
      if (frame.next < edges.length) {
        const target = edges[frame.next] as string;
        frame.next += 1;
        if (!index.has(target)) {
          index.set(target, counter);
          low.set(target, counter);
          counter += 1;
          stack.push(target);
          onStack.add(target);
          frames.push({ code: target, next: 0 });
        } else if (onStack.has(target)) {
          low.set(frame.code, Math.min(low.get(frame.code) ?? 0, index.get(target) ?? 0));
        }
        continue;
      }
      frames.pop();
      const parent = frames[frames.length - 1];
      if (parent !== undefined) low.set(parent.code, Math.min(low.get(parent.code) ?? 0, low.get(frame.code) ?? 0));
      if (low.get(frame.code) === index.get(frame.code)) {
        const component: string[] = [];
        for (;;) {
          const member = stack.pop() as string;
          onStack.delete(member);
          component.push(member);
          if (member === frame.code) break;
        }
        if (component.length > 1) components.push(component);
      }
    }
  }
  const order = new Map(definitions.map((definition, i) => [definition.code, i]));
  return components.map((component) => {
    const members = component.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
    const path = cyclePath(members, requires);
    const first = members[0] as string;
    return {
      code: first,
      codes: members,
      path: "requires",
      message: `milestones ${members.map((code) => JSON.stringify(code)).join(", ")} require each other in a cycle (${path.join(" -> ")}), so none of them could ever be awarded; remove one of these requires`,
    };
  });
}

/** One cycle through the component's first member, for the message ("a -> b -> a"). */
function cyclePath(members: readonly string[], requires: ReadonlyMap<string, readonly string[]>): string[] {
  const inside = new Set(members);
  const start = members[0] as string;
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const code = queue.shift() as string;
    for (const target of requires.get(code) ?? []) {
      if (!inside.has(target)) continue;
      if (target === start) {
        const path = [start];
        for (let at: string | undefined = code; at !== undefined && at !== start; at = previous.get(at)) path.splice(1, 0, at);
        return [...path, start];
      }
      if (!previous.has(target)) {
        previous.set(target, code);
        queue.push(target);
      }
    }
  }
  return [...members, start];
}

/** Tiers of one series sharing an order. */
function seriesProblems(definitions: readonly MilestoneDefinition[]): RelationProblem[] {
  const byPlace = new Map<string, { id: string; order: number; codes: string[] }>();
  for (const definition of definitions) {
    if (definition.series === undefined) continue;
    const key = `${definition.series.id}\u0000${definition.series.order}`;
    const place = byPlace.get(key) ?? { id: definition.series.id, order: definition.series.order, codes: [] };
    place.codes.push(definition.code);
    byPlace.set(key, place);
  }
  return [...byPlace.values()]
    .filter((place) => place.codes.length > 1)
    .map((place) => ({
      code: place.codes[0] as string,
      codes: place.codes,
      path: "series.order",
      message: `series ${JSON.stringify(place.id)}: milestones ${place.codes.map((code) => JSON.stringify(code)).join(", ")} all have order ${place.order}; orders must be unique within a series`,
    }));
}
