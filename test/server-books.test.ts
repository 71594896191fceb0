import { afterEach, expect, inject, test } from "vitest";
import { startTamperProxy, type TamperProxy } from "../src/faults/ws-tamper-proxy.js";
import { LoadSession } from "../src/load/engine.js";
import { normalizeModel } from "../src/load/model.js";
import { loadScenario } from "../src/load/scenario.js";
import { closeServerWindow, openServerWindow } from "../src/server-metrics/server-side.js";
import type { StackEndpoints } from "../src/stack/endpoints.js";

// The server's own counters (OpenIM's Prometheus metrics, scraped by the stack's real
// Prometheus) over one load's window, set beside the clients' books.
const endpoints = inject("endpoints");
let proxy: TamperProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

async function chatWithBooks(
  target: StackEndpoints,
  rate: number,
  driver: "openim-direct" | "legacy" = "openim-direct",
) {
  const window = await openServerWindow(target.prometheus, undefined, () => {});
  expect(window).not.toHaveProperty("unavailable");
  const { phase } = await LoadSession.once(
    {
      scenario: await loadScenario("direct-chat"),
      endpoints: target,
      driver: { name: driver },
      workers: 1,
      users: 10,
      topology: { kind: "pairs" },
      connectAtSetup: true,
      maxInFlightPerUser: 16,
      intervalMs: 500,
    },
    { model: normalizeModel({ kind: "constant-arrival-rate", rate, duration: "3s" }), drainMs: 4_000 },
  );
  const c = phase.counters;
  const server = await closeServerWindow(
    window,
    { ...c, connected: 10 },
    driver === "legacy" ? "legacy" : "openim",
    () => {},
  );
  if ("unavailable" in server) throw new Error(server.unavailable);
  return { c, server };
}

test("a run without loss: the server accepted and pushed exactly what the clients sent, acked and received", async () => {
  const { c, server } = await chatWithBooks(endpoints, 30);
  expect(c.lost).toBe(0);
  const counted = (metric: string) => server.counters.find((x) => x.metric === metric)?.value;
  expect(counted("single_chat_msg_process_success_total")).toBe(c.acked);
  expect(counted("single_chat_msg_process_failed_total")).toBe(0);
  // Push hands each message to every gateway instance once.
  expect(server.gatewayPushes.length).toBe(endpoints.openimWsInstances?.length ?? 1);
  for (const g of server.gatewayPushes) expect(g.value).toBe(c.acked);
  expect(server.reconciliation.map((l) => l.ok)).toEqual([true, true, true]);
  expect(server.summary).toContain(`server accepted ${c.acked.toLocaleString("en-US")}`);
  expect(server.summary).toContain("none lost");
  expect(server.resources?.processes.some((p) => p.job === "openim-rpc-msg" && (p.rssMaxMB ?? 0) > 0)).toBe(
    true,
  );
}, 120_000);

test("pushes dropped between the gateway and the clients show as lost after push, not before", async () => {
  // Every push frame to every user is dropped on its way from the gateway to the client.
  proxy = await startTamperProxy(endpoints.openimWs, { dropPushesTo: /./ });
  const { c, server } = await chatWithBooks(
    { ...endpoints, openimWs: proxy.url, openimWsInstances: [proxy.url] },
    20,
  );
  expect(c.acked).toBe(c.sent);
  expect(c.lost).toBe(c.expectedDeliveries);
  expect(proxy.counts.dropped).toBeGreaterThanOrEqual(c.sent);
  const [accepted, handed, delivered] = server.reconciliation;
  expect(accepted?.ok).toBe(true);
  expect(handed?.ok).toBe(true);
  expect(delivered?.ok).toBe(false);
  expect(delivered?.explanation).toContain(`${c.lost} deliveries lost after the gateways`);
  expect(server.summary).toContain(`${c.lost} lost after push`);
}, 120_000);

test("the legacy pipeline's own books: stored = published = consumed = acked, every stage", async () => {
  const { c, server } = await chatWithBooks(endpoints, 30, "legacy");
  expect(c.lost).toBe(0);
  const counted = (metric: string) => server.counters.find((x) => x.metric === metric)?.value;
  expect(counted("legacy_messages_stored_total")).toBe(c.acked);
  expect(counted("legacy_messages_published_total")).toBe(c.acked);
  expect(counted("legacy_messages_consumed_total")).toBe(c.acked);
  expect(server.reconciliation.map((l) => l.ok)).toEqual([true, true, true, true]);
  expect(server.summary).toMatch(/^legacy stored \d/);
}, 120_000);
