import type { StackEndpoints } from "./endpoints.js";
import type { HealthCheck } from "./health-check.js";
import { type ProbeAnswer, probeRestExposure, probeWebhooks, probeWebSocketRoute } from "./wiring-probes.js";

/**
 * The wiring the migration depends on, as `cutover status` checks it on every stack: OpenIM
 * calls the gateway's moderation webhooks, nginx sends the WebSocket straight to OpenIM, and
 * OpenIM's REST API is not reachable at the edge. A part the target does not let cutover probe is
 * listed as skipped with the reason, never passed.
 */
function fromAnswer<T>(name: string, answer: ProbeAnswer<T>, ok: (value: T) => boolean): HealthCheck {
  if (!answer.known) return { name, ok: true, skipped: true, detail: answer.detail };
  return { name, ok: ok(answer.value), detail: answer.detail };
}

export async function wiringChecks(endpoints: StackEndpoints): Promise<HealthCheck[]> {
  // One after another: the webhook and route probes both log the gateway admin in on one platform.
  const webhooks = await probeWebhooks(endpoints);
  const route = await probeWebSocketRoute(endpoints);
  const rest = await probeRestExposure(endpoints);
  return [
    fromAnswer("webhooks reach the gateway", webhooks, (w) => w.beforeSend && w.afterSend),
    fromAnswer("websocket bypasses the gateway", route, (r) => r === "direct"),
    fromAnswer("openim rest not exposed", rest, (paths) => paths.length === 0),
  ];
}
