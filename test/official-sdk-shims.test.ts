import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startWasmServer, type WasmServer } from "../src/drivers/official-sdk/wasm-server.js";

// The pieces the official SDKs need that cutover provides itself: the stand-in `electron`
// (builds/sdk-shims/electron) and the local HTTP server the wasm SDK's page loads from.
const require = createRequire(import.meta.url);

describe("the stand-in electron package", () => {
  test("is what `electron` resolves to, and calls a handled channel as ipcRenderer.invoke would", async () => {
    const electron = require("electron") as {
      isStandIn: boolean;
      ipcMain: {
        handle(c: string, fn: (e: unknown, ...a: unknown[]) => unknown): void;
        removeHandler(c: string): void;
        invoke(c: string, ...a: unknown[]): Promise<unknown>;
      };
    };
    expect(electron.isStandIn).toBe(true);
    electron.ipcMain.handle("cutover-test", (_e, a, b) => [a, b]);
    await expect(electron.ipcMain.invoke("cutover-test", 1, "two")).resolves.toEqual([1, "two"]);
    expect(() => electron.ipcMain.handle("cutover-test", () => 0)).toThrow(/second handler/);
    electron.ipcMain.removeHandler("cutover-test");
    await expect(electron.ipcMain.invoke("cutover-test")).rejects.toThrow(/No handler/);
  });
});

describe("the wasm SDK's page server", () => {
  let server: WasmServer;
  beforeAll(async () => {
    server = await startWasmServer();
  });
  afterAll(() => server.close());

  test("listens on 127.0.0.1 on a port above Chromium's unsafe ports", () => {
    const url = new URL(server.origin);
    expect(url.hostname).toBe("127.0.0.1");
    expect(Number(url.port)).toBeGreaterThan(10080);
  });

  test("serves the page, the SDK module, its worker and the wasm with the types a browser needs", async () => {
    const page = await fetch(`${server.origin}/`);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await page.text()).toContain("/sdk/lib/index.es.js");
    for (const [file, type] of [
      ["lib/index.es.js", /^text\/javascript/],
      ["lib/worker.js", /^text\/javascript/],
      ["assets/wasm_exec.js", /^text\/javascript/],
      ["assets/sql-wasm.wasm", /^application\/wasm$/],
    ] as const) {
      const res = await fetch(`${server.origin}/sdk/${file}`, { method: "HEAD" });
      expect(res.status, file).toBe(200);
      expect(res.headers.get("content-type"), file).toMatch(type);
    }
    const wasm = await fetch(`${server.origin}/sdk/assets/openIM.wasm`, { method: "HEAD" });
    expect(Number(wasm.headers.get("content-length"))).toBeGreaterThan(10_000_000);
  });

  test("serves nothing outside the SDK's lib/ and assets/", async () => {
    for (const p of [
      "/sdk/../package.json",
      "/sdk/lib/..%2F..%2Fpackage.json",
      "/etc/passwd",
      "/sdk/src/x.js",
    ]) {
      expect((await fetch(`${server.origin}${p}`)).status, p).toBe(404);
    }
  });
});
