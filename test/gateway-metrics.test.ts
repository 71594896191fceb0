import { afterAll, describe, expect, inject, test } from "vitest";
import type { InboundMessage } from "../src/drivers/driver.js";
import { openimDriver } from "../src/drivers/openim-driver.js";

// The reference gateway's own books on GET /metrics, read straight from the gateway (nginx routes only /api/ to it).
const endpoints = inject("endpoints");
const gatewayURL = endpoints.gateway;
if (!gatewayURL) throw new Error("the test stack runs without the reference gateway");
const driver = openimDriver(endpoints);
const client = driver.gateway;
afterAll(() => driver.close());

/** The sum of the series named `name` whose labels include `labels` (0 when there is none yet). */
function value(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m?.[1] !== name) continue;
    const own = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => own[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

async function scrape(): Promise<string> {
  const res = await fetch(`${gatewayURL}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** How much each series moved between two scrapes. */
function moved(before: string, after: string, series: Array<[string, Record<string, string>?]>) {
  return Object.fromEntries(
    series.map(([name, labels = {}]) => [
      `${name}${JSON.stringify(labels)}`,
      value(after, name, labels) - value(before, name, labels),
    ]),
  );
}

describe("the reference gateway's metrics", () => {
  test("serves the process's CPU, memory, heap, GC and event-loop lag; nginx does not route /metrics to it", async () => {
    const text = await scrape();
    for (const name of [
      "process_cpu_seconds_total",
      "process_resident_memory_bytes",
      "nodejs_heap_size_used_bytes",
      "nodejs_eventloop_lag_p99_seconds",
      "nodejs_gc_duration_seconds_count",
    ])
      expect(text, name).toMatch(new RegExp(`^${name}(\\{[^}]*\\})? `, "m"));
    expect((await fetch(`${endpoints.nginx}/metrics`)).status).toBe(404);
    expect((await fetch(`${endpoints.nginx}/api/metrics`)).status).toBe(404);
  });

  test("logins are counted by result, and the imToken cache by hit and miss (a miss mints once)", async () => {
    const [user] = await driver.createUsers(1, "gmet");
    const before = await scrape();
    await client.login(user!.userID, user!.password, 3); // first login on platform 3: miss, one mint
    await client.login(user!.userID, user!.password, 3); // the same token again: hit
    await expect(client.login(user!.userID, "not-the-password", 3)).rejects.toMatchObject({ status: 401 });
    const after = await scrape();
    expect(
      moved(before, after, [
        ["gateway_logins_total", { result: "ok" }],
        ["gateway_logins_total", { result: "unauthorized" }],
        ["gateway_logins_total", { result: "error" }],
        ["gateway_imtoken_cache_total", { result: "hit" }],
        ["gateway_imtoken_cache_total", { result: "miss" }],
        ["gateway_imtoken_mints_total", { result: "ok" }],
      ]),
    ).toEqual({
      'gateway_logins_total{"result":"ok"}': 2,
      'gateway_logins_total{"result":"unauthorized"}': 1,
      'gateway_logins_total{"result":"error"}': 0,
      'gateway_imtoken_cache_total{"result":"hit"}': 1,
      'gateway_imtoken_cache_total{"result":"miss"}': 1,
      'gateway_imtoken_mints_total{"result":"ok"}': 1,
    });
  });

  test("proxied calls are counted by OpenIM route and status; a path OpenIM does not have is no label of its own", async () => {
    const [user] = await driver.createUsers(1, "gmet");
    const { jwt } = await client.login(user!.userID, user!.password, 3);
    const before = await scrape();
    const ok = await client.im(jwt, "user/get_users_info", { userIDs: [user!.userID] });
    expect(ok.status).toBe(200);
    expect((await client.im(jwt, "auth/get_admin_token", {})).status).toBe(403);
    expect((await client.im(jwt, "no_such/route_here", {})).status).toBe(404);
    const after = await scrape();
    expect(
      moved(before, after, [
        ["gateway_proxy_requests_total", { route: "user/get_users_info", status: "200" }],
        ["gateway_proxy_requests_total", { route: "other", status: "403" }],
        ["gateway_proxy_requests_total", { route: "other", status: "404" }],
        ["gateway_proxy_requests_total", { route: "no_such/route_here" }],
      ]),
    ).toEqual({
      'gateway_proxy_requests_total{"route":"user/get_users_info","status":"200"}': 1,
      'gateway_proxy_requests_total{"route":"other","status":"403"}': 1,
      'gateway_proxy_requests_total{"route":"other","status":"404"}': 1,
      'gateway_proxy_requests_total{"route":"no_such/route_here"}': 0,
    });
  });

  test("a send through OpenIM calls the before-send hook (allowed) and the after-send hook (recorded) once each", async () => {
    const [a, b] = await driver.createUsers(2, "gmet");
    const alice = await driver.login(a!);
    const bob = await driver.login(b!);
    const inbox: InboundMessage[] = [];
    await alice.connect(() => {});
    await bob.connect((m) => inbox.push(m));
    const series: Array<[string, Record<string, string>]> = [
      ["gateway_webhook_calls_total", { hook: "callbackBeforeSendSingleMsgCommand", result: "allow" }],
      ["gateway_webhook_calls_total", { hook: "callbackAfterSendSingleMsgCommand", result: "recorded" }],
      ["gateway_webhook_duration_seconds_count", { hook: "callbackBeforeSendSingleMsgCommand" }],
    ];
    const before = await scrape();
    const ack = await alice.send({ userID: b!.userID }, "counted by the hooks");
    for (let i = 0; i < 200 && !inbox.some((m) => m.clientMsgID === ack.clientMsgID); i++)
      await new Promise((r) => setTimeout(r, 25));
    // The after-send hook is OpenIM's asynchronous call: read until it has come, then compare.
    let delta: Record<string, number> = {};
    for (let i = 0; i < 100; i++) {
      delta = moved(before, await scrape(), series);
      if (Object.values(delta).every((v) => v === 1)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(Object.values(delta)).toEqual([1, 1, 1]);
    await Promise.all([alice.disconnect(), bob.disconnect()]);
  });
});
