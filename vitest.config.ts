import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          // bench/: the no-work server other tools are measured against is an interface too.
          include: ["src/**/*.test.ts", "bench/**/*.test.ts"],
          testTimeout: 10_000,
          // Vitest's default on 2 cores is one worker: the unit files (no shared stack) take both,
          // then the integration files run one at a time against the stack.
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: "integration",
          // The conformance suites run here too, so CI holds the local stack to the whole contract.
          include: ["test/**/*.test.ts", "conformance/**/*.test.ts"],
          // One real local stack for the whole run; tests isolate themselves by unique user and group IDs.
          globalSetup: ["test/setup/local-stack.ts"],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
