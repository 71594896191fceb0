import { defineConfig } from "vitest/config";

/** The bench's own tests (the no-work server is an interface other tools build on): `npx vitest run --config bench/vitest.config.ts`. */
export default defineConfig({ test: { include: ["bench/**/*.test.ts"], testTimeout: 20_000 } });
