/** Sum of the day buckets of a window that ends on `endDay` and spans `windowDays` UTC days. */
export function windowSum(buckets: ReadonlyMap<number, number>, endDay: number, windowDays: number): number {
  let sum = 0;
  for (const [day, amount] of buckets) if (day <= endDay && day > endDay - windowDays) sum += amount;
  return sum;
}
