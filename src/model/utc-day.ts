/** Rules count whole UTC days: `dayOf(t) = floor(t / 86_400_000)`. */
export const DAY_MS = 86_400_000;

export function dayOf(time: number): number {
  return Math.floor(time / DAY_MS);
}
