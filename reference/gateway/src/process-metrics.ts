import type { ServerResponse } from "node:http";
import { collectDefaultMetrics, Registry } from "prom-client";

/**
 * A process's own Prometheus registry, holding Node's runtime metrics (process CPU and RSS,
 * heap, GC, event-loop lag, handles) beside the service's books. Never prom-client's global
 * registry: a test that builds two services in one process must not have them share counters.
 * Shared by the reference gateway and the legacy services, which serve it on GET /metrics.
 */
export function processRegistry(): Registry {
  const register = new Registry();
  collectDefaultMetrics({ register });
  return register;
}

/** Answers a scrape on a plain node:http server (the consumer's health server, the websocket service). */
export function writeMetrics(register: Registry, res: ServerResponse): void {
  register.metrics().then(
    (text) => res.writeHead(200, { "content-type": register.contentType }).end(text),
    (err: unknown) =>
      res
        .writeHead(500, { "content-type": "text/plain" })
        .end(`metrics: ${err instanceof Error ? err.message : String(err)}\n`),
  );
}
