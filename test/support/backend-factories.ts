import { createMemoryBackend } from "../../src/store/memory/memory-backend.ts";
import type { ProgressionBackend, SubjectLoader } from "../../src/store/progression-backend.ts";

/**
 * Every backend the conformance suites run against. Each fixture is isolated (its own prefix or
 * instance) and `cleanup` removes whatever it created. Backends must honour the `now` the engine
 * passes (tests drive time with a fake clock).
 */
export interface BackendFixture {
  readonly backend: ProgressionBackend;
  cleanup(): Promise<void>;
}

export interface BackendFactory {
  readonly name: string;
  create(options?: { loader?: SubjectLoader }): Promise<BackendFixture>;
}

export const memoryFactory: BackendFactory = {
  name: "memory",
  async create(options = {}) {
    const backend = createMemoryBackend(options);
    return { backend, cleanup: () => backend.close() };
  },
};

export const backendFactories: BackendFactory[] = [memoryFactory];
