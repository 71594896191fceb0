/**
 * Generator memory per idle connection at scale: N connections from this process to the
 * mini chat server (its own process), spread over several 127.x source addresses, first
 * through the load engine (a user state and a session each), then as bare `ws` sockets.
 * OpenIM's gateway on the local stack is limited to 20,000 open files, so the target is
 * the raw server — the figure is the generator's, whatever it talks to. Every process here
 * (this one included) has a hard limit of 20,000 open files that cannot be raised, which
 * caps one generator process below 20,000 connections: 50,000 needs several processes.
 *
 *   node --expose-gc --import tsx bench/conn-scale.ts --connections 15000
 */
import { spawn } from "node:child_process";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { LoadSession } from "../src/load/engine.js";
import type { StackEndpoints } from "../src/stack/endpoints.js";
import { miniChatDriver } from "./mini-chat.js";

const { values: args } = parseArgs({
  options: {
    connections: { type: "string", default: "10000" },
    sources: { type: "string", default: "4" },
    /** First source address's last octet, so parallel processes use distinct 127.x addresses. */
    "source-base": { type: "string", default: "2" },
    /** After the engine's connections are up: say "ready <n>" on stderr and hold them this long. */
    "hold-ms": { type: "string", default: "0" },
  },
});
const n = Number(args.connections);
const sources = Array.from(
  { length: Number(args.sources) },
  (_, i) => `127.0.0.${i + Number(args["source-base"])}`,
);
const holdMs = Number(args["hold-ms"]);
const gc = (globalThis as { gc?: () => void }).gc;
const settle = async () => {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 300));
  }
};

export async function connScale() {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/mini-chat-server-main.ts"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("mini chat server did not start in 20 s")), 20_000);
    child.stdout?.once("data", (d: Buffer) => {
      clearTimeout(timer);
      resolve(Number(String(d).trim()));
    });
  });
  const url = `ws://127.0.0.1:${port}`;
  try {
    await settle();
    const before = process.memoryUsage().rss;
    const t0 = performance.now();
    const session = await LoadSession.open({
      scenario: {
        name: "conn-scale",
        options: { model: { kind: "constant-arrival-rate", rate: 1, duration: 1 }, users: n },
        fn: async () => {},
      },
      endpoints: {} as StackEndpoints,
      driver: { name: "mini-chat" },
      driverInstance: () => miniChatDriver(url, sources),
      users: n,
      topology: { kind: "solo" },
      connectAtSetup: true,
      maxInFlightPerUser: 1,
      setupConcurrency: 64,
    });
    const connectS = (performance.now() - t0) / 1000;
    await settle();
    const engineBytes = (process.memoryUsage().rss - before) / n;
    const connected = session.setup.counters.connects;
    if (holdMs > 0) {
      // The multi-process bench counts connections held at the same moment across generators.
      process.stderr.write(`ready ${connected} ${Date.now()}\n`);
      await new Promise((r) => setTimeout(r, holdMs));
    }
    await session.close();
    await settle();
    const before2 = process.memoryUsage().rss;
    const sockets: WebSocket[] = [];
    for (let i = 0; i < n; i += 64) {
      await Promise.all(
        Array.from({ length: Math.min(64, n - i) }, async (_, j) => {
          const ws = new WebSocket(`${url}/?user=bare${i + j}`, {
            perMessageDeflate: false,
            localAddress: sources[(i + j) % sources.length],
          });
          await new Promise<void>((resolve, reject) => {
            ws.once("open", () => resolve());
            ws.once("error", reject);
          });
          ws.on("error", () => {});
          sockets.push(ws);
        }),
      );
    }
    await settle();
    const bareBytes = (process.memoryUsage().rss - before2) / n;
    for (const ws of sockets) ws.terminate();
    return {
      connections: n,
      sourceAddresses: sources,
      target: "mini chat server (raw ws, its own process)",
      engineConnected: connected,
      engineConnectSeconds: Math.round(connectS * 10) / 10,
      engineBytesPerConnection: Math.round(engineBytes),
      bareWsBytesPerConnection: Math.round(bareBytes),
    };
  } finally {
    child.kill("SIGTERM");
  }
}

if (process.argv[1]?.endsWith("conn-scale.ts")) {
  process.stdout.write(`${JSON.stringify(await connScale(), null, 2)}\n`);
}
