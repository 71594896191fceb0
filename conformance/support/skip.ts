import type { TestContext } from "vitest";

/**
 * Skips the running case, with the reason every report shows, unless `condition` holds.
 * Cases that depend on the target profile use this instead of test.runIf, whose skips
 * carry no reason (src/conformance-runner/collector.ts reports those as a suite bug). An assertion
 * function: after `skipUnless(ctx, url !== undefined, …)` the case may use `url` as a string.
 * Most cases say what they need with `stack.requires(ctx, need)` (support/stack.ts), which
 * comes here with the need's reason.
 */
export function skipUnless(ctx: TestContext, condition: boolean, why: string): asserts condition {
  if (!condition) ctx.skip(why);
}
