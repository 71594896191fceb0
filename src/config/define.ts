import type { CutoverConfigInput } from "./schema.js";

/** Typed helper for `cutover.config.ts`, as vitest's `defineConfig`: it only gives the object its type. */
export function defineConfig(config: CutoverConfigInput): CutoverConfigInput {
  return config;
}
