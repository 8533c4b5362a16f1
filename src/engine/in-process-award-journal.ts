import { awardedByOf } from "../runtime/domain-events.ts";
import type { EffectsListener } from "../runtime/effects-stream.ts";
import type { AwardProvenance, AwardProvenanceSource } from "../model/award-provenance.ts";

/**
 * The award journal of an embedded engine (memory backend): the provenance of every award this
 * process made, fed by the effects stream, so `explain` says which batch made an award without
 * PostgreSQL. One entry per award, as the memory backend keeps one record per award. A Redis engine
 * without durability keeps none (other processes make awards too): there `explain` says null.
 */
export class InProcessAwardJournal implements AwardProvenanceSource {
  readonly #bySubject = new Map<string, Map<string, AwardProvenance>>();

  readonly listener: EffectsListener = (effects) => {
    if (effects.replayed) return;
    for (const subject of effects.subjects) {
      if (subject.reached.length === 0) continue;
      let awards = this.#bySubject.get(subject.subject);
      if (awards === undefined) this.#bySubject.set(subject.subject, (awards = new Map()));
      const provenance: AwardProvenance = { awardedAt: effects.at, awardedBy: awardedByOf(effects) };
      // An award is made once; the first receipt is the one that made it.
      for (const award of subject.reached) if (!awards.has(award.code)) awards.set(award.code, provenance);
    }
  };

  provenance(subject: string, code: string): Promise<AwardProvenance | null> {
    return Promise.resolve(this.#bySubject.get(subject)?.get(code) ?? null);
  }

  erase(subject: string): void {
    this.#bySubject.delete(subject);
  }
}
