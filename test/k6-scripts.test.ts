import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, expect, inject, test } from "vitest";
import WebSocketNode from "ws";
import { importK6 } from "../src/k6/import-k6.js";
import { packageRoot } from "../src/util/package-root.js";

/**
 * A protocol check of the k6 scripts, not a k6 run (k6 cannot be installed here): each
 * bundle from `npm run k6:build` is loaded with its k6 imports pointed at small stand-ins —
 * a browser-like WebSocket over `ws`, Trend/Counter recorders, asyncRequest over fetch,
 * Node's timers, check/sleep, __ENV/__VU/__ITER and exec.scenario — and its default function
 * runs against the real local stack. What it proves: the scripts speak OpenIM's gateway
 * protocol (binary JSON frames, protobuf payloads, acks, pushes) and their books balance.
 * What it does not: k6's scheduler, VU isolation or its own metric sinks.
 */

const endpoints = inject("endpoints");
const root = packageRoot();
const work = mkdtempSync(path.join(os.tmpdir(), "cutover-k6-scripts-"));

type Recorded = Map<string, number[]>;

/** Everything one loaded bundle (one VU) recorded, by metric name. */
interface LoadedScript {
  run: () => Promise<void>;
  samples: Recorded;
  /** The same samples as k6 `--out json` would write them (Metric lines, then Points tagged with the scenario). */
  k6Json: () => string;
}

class StandInWebSocket {
  binaryType: "blob" | "arraybuffer" = "blob";
  onopen: (() => void) | undefined;
  onmessage: ((e: { data: string | ArrayBuffer }) => void) | undefined;
  onerror: ((e: { error: string }) => void) | undefined;
  onclose: (() => void) | undefined;
  private readonly ws: WebSocketNode;

  constructor(url: string) {
    this.ws = new WebSocketNode(url);
    this.ws.on("open", () => this.onopen?.());
    this.ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return this.onmessage?.({ data: data.toString("utf8") });
      // k6 hands binary frames over as ArrayBuffer when binaryType is "arraybuffer" (websockets.go).
      if (this.binaryType !== "arraybuffer")
        throw new Error("the script did not set binaryType = arraybuffer");
      this.onmessage?.({
        data: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer,
      });
    });
    this.ws.on("error", (err) => this.onerror?.({ error: err.message }));
    this.ws.on("close", () => this.onclose?.());
  }

  send(data: string | ArrayBuffer): void {
    this.ws.send(typeof data === "string" ? data : Buffer.from(data), { binary: typeof data !== "string" });
  }

  close(): void {
    this.ws.close();
  }
}

/** The k6 modules a bundle may import, as globals its rewritten imports read. */
function standIns(samples: Recorded, lines: string[], scenario: string, scenarioStart: number) {
  const declared = new Set<string>();
  const metric = (name: string, type: "trend" | "counter", isTime = false) => ({
    add(value: number | boolean) {
      const list = samples.get(name) ?? [];
      list.push(Number(value));
      samples.set(name, list);
      if (!declared.has(name)) {
        declared.add(name);
        const contains = isTime ? "time" : "default";
        lines.push(
          JSON.stringify({
            type: "Metric",
            data: { name, type, contains, thresholds: [], submetrics: null },
            metric: name,
          }),
        );
      }
      const data = { time: new Date().toISOString(), value: Number(value), tags: { scenario } };
      lines.push(JSON.stringify({ metric: name, type: "Point", data }));
    },
  });
  return {
    "k6/websockets": { WebSocket: StandInWebSocket },
    "k6/metrics": {
      Trend: class {
        constructor(name: string, isTime?: boolean) {
          Object.assign(this, metric(name, "trend", isTime));
        }
      },
      Counter: class {
        constructor(name: string) {
          Object.assign(this, metric(name, "counter"));
        }
      },
    },
    "k6/http": {
      default: {
        async asyncRequest(
          method: string,
          url: string,
          body: string,
          params: { headers: Record<string, string> },
        ) {
          const res = await fetch(url, {
            method,
            body,
            headers: params.headers,
            signal: AbortSignal.timeout(10_000),
          });
          return { status: res.status, body: await res.text() };
        },
      },
    },
    "k6/timers": { setTimeout, clearTimeout, setInterval, clearInterval },
    "k6/execution": { default: { scenario: { startTime: scenarioStart } } },
    k6: {
      check: (v: unknown, checks: Record<string, (v: unknown) => boolean>) =>
        Object.values(checks).every((c) => c(v)),
      sleep: () => undefined,
    },
  };
}

let loads = 0;

/** Loads a bundle as one VU: its k6 imports rewritten to re-export the stand-ins. */
async function loadScript(name: string, env: Record<string, string>, vu = 1): Promise<LoadedScript> {
  const samples: Recorded = new Map();
  const lines: string[] = [];
  const key = `__k6StandIn${++loads}`;
  const modules = standIns(samples, lines, name, Date.now());
  (globalThis as Record<string, unknown>)[key] = modules;
  Object.assign(globalThis, {
    __ENV: {
      OPENIM_API: endpoints.openimApi,
      OPENIM_WS: endpoints.openimWs,
      ADMIN_SECRET: endpoints.adminSecret,
      ADMIN_USER_ID: endpoints.adminUserID,
      ...env,
    },
    __VU: vu,
    __ITER: 0,
  });
  const code = readFileSync(path.join(work, `${name}.js`), "utf8").replace(
    /from\s+"(k6(?:\/[\w/-]+)?)"/g,
    (_, spec: string) => {
      if (!(spec in modules)) throw new Error(`${name} imports ${spec}, which has no stand-in`);
      const shim = path.join(work, `${key}-${spec.replace(/\W/g, "_")}.mjs`);
      const names = Object.keys(modules[spec as keyof typeof modules]).filter((n) => n !== "default");
      writeFileSync(
        shim,
        `const m = globalThis.${key}[${JSON.stringify(spec)}];\n` +
          `export default m.default;\n${names.map((n) => `export const ${n} = m.${n};`).join("\n")}\n`,
      );
      return `from ${JSON.stringify(pathToFileURL(shim).href)}`;
    },
  );
  const file = path.join(work, `${name}-${loads}.mjs`);
  writeFileSync(file, code);
  const mod = (await import(pathToFileURL(file).href)) as { default: () => Promise<void> };
  let iter = 0;
  return {
    samples,
    k6Json: () => `${lines.join("\n")}\n`,
    run: async () => {
      Object.assign(globalThis, { __VU: vu, __ITER: iter++ });
      await mod.default();
    },
  };
}

/**
 * What the script recorded, written as k6 `--out json` would (one file per VU, as runners),
 * read back by cutover import k6: the scenario's thresholds find every metric they name.
 */
async function imported(name: string, vus: LoadedScript[]) {
  const files = vus.map((vu, i) => {
    const file = path.join(work, `${name}-vu${i + 1}.k6.json`);
    writeFileSync(file, vu.k6Json());
    return file;
  });
  const { results } = await importK6({ files });
  expect(results.scenario.name).toBe(name);
  expect(results.accounting?.balanced).toBe(true);
  return results;
}

const sum = (r: Recorded, name: string) => (r.get(name) ?? []).reduce((a, b) => a + b, 0);
const count = (r: Recorded, name: string) => r.get(name)?.length ?? 0;

beforeAll(() => {
  // `npm run k6:build` into this test's own folder (the bundle test builds too, maybe at the same time).
  const r = spawnSync("npm", ["run", "--silent", "k6:build", "--", `--outdir=${work}`], {
    cwd: root,
    encoding: "utf8",
  });
  expect(r.status, r.stderr).toBe(0);
}, 60_000);

test("direct-chat.js (protocol check, not a k6 run): each iteration's text is acked and pushed to the peer; the books balance", async () => {
  const vu = await loadScript("direct-chat", { DRAIN: "5s" });
  for (let i = 0; i < 3; i++) await vu.run();
  const s = vu.samples;
  expect(sum(s, "connect_errors")).toBe(0);
  expect(sum(s, "send_errors")).toBe(0);
  expect(sum(s, "sent")).toBe(3);
  expect(sum(s, "acked")).toBe(3);
  expect(sum(s, "delivered")).toBe(3);
  expect(sum(s, "lost")).toBe(0);
  expect(sum(s, "expected_deliveries")).toBe(sum(s, "delivered") + sum(s, "lost"));
  expect(count(s, "ack")).toBe(3);
  expect(count(s, "e2e")).toBe(3);
  for (const v of s.get("e2e") ?? []) expect(v).toBeGreaterThanOrEqual(0);
  const results = await imported("direct-chat", [vu]);
  expect(results.accounting).toEqual({ expected: 3, delivered: 3, lost: 0, balanced: true });
  expect(results.metrics?.e2e?.count).toBe(3);
  expect(results.thresholds?.find((t) => t.expression === "lost == 0")?.ok).toBe(true);
}, 20_000);

test("group-fanout.js (protocol check, not a k6 run): every other member of the VU's group gets each text; e2e_last per message", async () => {
  const vu = await loadScript("group-fanout", { GROUP_SIZE: "4", DRAIN: "5s" });
  for (let i = 0; i < 2; i++) await vu.run();
  const s = vu.samples;
  expect(sum(s, "connect_errors")).toBe(0);
  expect(sum(s, "sent")).toBe(2);
  expect(sum(s, "expected_deliveries")).toBe(6);
  expect(sum(s, "delivered")).toBe(6);
  expect(sum(s, "lost")).toBe(0);
  expect(count(s, "e2e")).toBe(6);
  expect(count(s, "e2e_last")).toBe(2);
  const results = await imported("group-fanout", [vu]);
  expect(results.metrics?.e2e_last?.count).toBe(2);
}, 20_000);

test("login-storm.js (protocol check, not a k6 run): each iteration mints a token, connects and leaves", async () => {
  const vu = await loadScript("login-storm", {});
  for (let i = 0; i < 3; i++) await vu.run();
  const s = vu.samples;
  expect(sum(s, "logins")).toBe(3);
  expect(sum(s, "login_errors")).toBe(0);
  expect(sum(s, "connects")).toBe(3);
  expect(sum(s, "connect_errors")).toBe(0);
  expect(count(s, "login")).toBe(3);
  expect(count(s, "connect")).toBe(3);
  const results = await imported("login-storm", [vu]);
  expect(results.counters?.logins).toBe(3);
  expect(results.thresholds?.filter((t) => !t.ok).map((t) => t.expression)).toEqual([]);
}, 20_000);

test("connection-ramp.js (protocol check, not a k6 run): connections held through the hold with heartbeats are not dropped", async () => {
  const vus = await Promise.all(
    [1, 2].map((n) => loadScript("connection-ramp", { RAMP: "1s", HOLD: "1s", HEARTBEAT_MS: "300" }, n)),
  );
  await Promise.all(vus.map((v) => v.run()));
  for (const { samples: s } of vus) {
    expect(sum(s, "connects")).toBe(1);
    expect(sum(s, "connect_errors")).toBe(0);
    expect(sum(s, "dropped_connections")).toBe(0);
    expect(count(s, "dropped_connections")).toBe(1);
  }
  const results = await imported("connection-ramp", vus);
  expect(results.counters?.connects).toBe(2);
  expect(results.thresholds?.find((t) => t.expression === "dropped_connections == 0")?.ok).toBe(true);
}, 20_000);
