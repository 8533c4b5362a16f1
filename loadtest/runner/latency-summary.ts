/** Push-latency percentiles (nearest-rank), in ms rounded to 0.1. */
export interface LatencySummary {
  readonly samples: number;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
  readonly max: number | null;
}

export function summarizeLatencies(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (quantile: number): number | null => {
    if (sorted.length === 0) return null;
    const value = sorted[Math.min(sorted.length - 1, Math.ceil(quantile * sorted.length) - 1)] ?? null;
    return value === null ? null : Math.round(value * 10) / 10;
  };
  return { samples: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: at(1) };
}
