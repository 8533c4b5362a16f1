import type { Progression } from "../src/engine/progression.ts";
import { ProgressionHost } from "./progression-host.ts";
import type { ProgressionHostOptions } from "./progression-host-options.ts";

/**
 * Creates the process-wide host: call it once per process, after `createProgression(...)`, and give the
 * same host to every room's `ProgressionPlugin`. On shutdown, `await host.close()` before
 * `progression.close()` so everything recorded is applied.
 */
export function createProgressionHost(progression: Progression, options: ProgressionHostOptions = {}): ProgressionHost {
  return new ProgressionHost(progression, options);
}
