import { ErrorCode } from "../../../src/errors/error-codes.ts";
import { ProgressionError } from "../../../src/errors/progression-error.ts";
import type { ProgressionBackend } from "../../../src/backends/contract/progression-backend.ts";

/**
 * A real backend with a switchable fault on `apply` (and on `acquire`), to play a store outage:
 * - "down": nothing is applied and the call throws BACKEND_UNAVAILABLE (Redis unreachable);
 * - "lose-reply": the batch IS applied, then the call throws (the reply was lost on the way back),
 *   which is exactly the case where only the batch id keeps a retry from counting twice.
 */
export type ApplyFault = "none" | "down" | "lose-reply";

export interface FaultyBackend {
  readonly backend: ProgressionBackend;
  fault: ApplyFault;
  /** The same faults for ledger `acquire` (coalesced grants). */
  acquireFault: ApplyFault;
  /** apply calls seen, including failed ones. */
  applyCalls: number;
}

export function withApplyFaults(inner: ProgressionBackend): FaultyBackend {
  const control: FaultyBackend = {
    fault: "none",
    acquireFault: "none",
    applyCalls: 0,
    backend: new Proxy(inner, {
      get(target, property) {
        if (property === "apply") {
          return async (...args: Parameters<ProgressionBackend["apply"]>) => {
            control.applyCalls += 1;
            if (control.fault === "down") {
              throw new ProgressionError(ErrorCode.BackendUnavailable, "test: the store is down");
            }
            const result = await target.apply(...args);
            if (control.fault === "lose-reply") {
              throw new ProgressionError(ErrorCode.BackendUnavailable, "test: the reply was lost after applying");
            }
            return result;
          };
        }
        if (property === "acquire") {
          return async (...args: Parameters<ProgressionBackend["acquire"]>) => {
            if (control.acquireFault === "down") {
              throw new ProgressionError(ErrorCode.BackendUnavailable, "test: the store is down");
            }
            const result = await target.acquire(...args);
            if (control.acquireFault === "lose-reply") {
              throw new ProgressionError(ErrorCode.BackendUnavailable, "test: the reply was lost after acquiring");
            }
            return result;
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    }),
  };
  return control;
}
