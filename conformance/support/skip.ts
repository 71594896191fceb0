import type { TestContext } from "vitest";

/**
 * Skips the running case, with the reason every report shows, unless `condition` holds.
 * Cases that depend on the target profile use this instead of test.runIf, whose skips
 * carry no reason (src/conformance/collector.ts reports those as a suite bug).
 */
export function skipUnless(ctx: TestContext, condition: boolean, why: string): void {
  if (!condition) ctx.skip(why);
}
