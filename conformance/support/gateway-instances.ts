import type { TestContext } from "vitest";
import type { StackEndpoints } from "../../src/stack/endpoints.js";
import { asTuple, type Tuple } from "./lists.js";
import { skipUnless } from "./skip.js";

/**
 * The first `count` message-gateway instances' own WebSocket URLs, so a case can pin each
 * user to one instance (nginx would place them itself). Skips the case, saying why, on a
 * target that runs fewer instances or does not list them (`endpoints.openimWsInstances`:
 * the local stack lists them; set `stack.local.msgGateways` to 2 or more to run such cases).
 */
export function gatewayInstances<N extends number>(
  ctx: TestContext,
  endpoints: StackEndpoints,
  count: N,
): Tuple<string, N> {
  const listed = endpoints.openimWsInstances;
  skipUnless(
    ctx,
    listed !== undefined && listed.length >= count,
    listed === undefined
      ? `the target does not list its message-gateway instances (endpoints.openimWsInstances); this case needs ${count}`
      : `the target runs ${listed.length} message-gateway instance${listed.length === 1 ? "" : "s"}; this case needs ${count} (stack.local.msgGateways)`,
  );
  return asTuple(listed.slice(0, count), count);
}
