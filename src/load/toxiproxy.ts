import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { Toxiproxy } from "toxiproxy-node-client";
import { defaultCacheDir } from "../stack/local/artifacts.js";
import { runCommand } from "../stack/local/run-command.js";

/**
 * Toxiproxy (github.com/Shopify/toxiproxy/v2) between the load generator and OpenIM's
 * message gateway, for faults a scenario asks for: latency, resets, stalls. Built once
 * from the Go module proxy into the cache, as the stack's other Go parts are; run as a
 * child of the load run on loopback and stopped by its pid when the run ends.
 */
export const TOXIPROXY_VERSION = "2.5.0";

export function toxiproxyBinary(cacheDir = defaultCacheDir()): string {
  return path.join(cacheDir, "toxiproxy", TOXIPROXY_VERSION, "toxiproxy-server");
}

export async function ensureToxiproxy(
  cacheDir = defaultCacheDir(),
  log = path.join(cacheDir, "toxiproxy-build.log"),
): Promise<string> {
  const bin = toxiproxyBinary(cacheDir);
  if (existsSync(bin)) return bin;
  const dir = path.dirname(bin);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    // `go install pkg@version` needs no module of ours; the binary is named after its folder (server).
    await runCommand("go", ["install", `github.com/Shopify/toxiproxy/v2/cmd/server@v${TOXIPROXY_VERSION}`], {
      cwd: tmp,
      env: { ...process.env, GOBIN: tmp, GOFLAGS: "-mod=mod", GOTOOLCHAIN: "local" },
      log,
      timeoutMs: 10 * 60_000,
    });
    renameSync(path.join(tmp, "server"), path.join(tmp, "toxiproxy-server"));
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(path.dirname(dir), { recursive: true });
    renameSync(tmp, dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return bin;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface RunningToxiproxy {
  client: Toxiproxy;
  apiPort: number;
  pid: number;
  stop(): Promise<void>;
}

export async function startToxiproxy(bin: string): Promise<RunningToxiproxy> {
  const apiPort = await freePort();
  const child: ChildProcess = spawn(bin, ["-host", "127.0.0.1", "-port", String(apiPort)], {
    stdio: "ignore",
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error("toxiproxy-server did not start");
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // A run that dies without reaching stop() must not leave the proxy behind.
  const onExit = () => {
    if (child.exitCode === null) process.kill(pid, "SIGKILL");
  };
  process.once("exit", onExit);
  const client = new Toxiproxy(`http://127.0.0.1:${apiPort}`);
  const stop = async () => {
    process.off("exit", onExit);
    if (child.exitCode === null) process.kill(pid, "SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    if (child.exitCode === null && child.signalCode === null) process.kill(pid, "SIGKILL");
  };
  // Ready when its API answers; bounded.
  for (let i = 0; i < 100; i++) {
    try {
      await client.getVersion();
      return { client, apiPort, pid, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  await stop();
  throw new Error("toxiproxy-server's API did not answer within 5 s");
}

/** A proxy on a free loopback port in front of `upstream` (host:port); returns the proxy's host:port. */
export async function proxyFor(tp: RunningToxiproxy, name: string, upstream: string): Promise<string> {
  const port = await freePort();
  const listen = `127.0.0.1:${port}`;
  await tp.client.createProxy({ name, listen, upstream });
  return listen;
}

/** Latency (± jitter) on what the upstream sends back; resolves with a handle to take it off again. */
export async function addLatency(
  tp: RunningToxiproxy,
  proxy: string,
  latencyMs: number,
  jitterMs = 0,
): Promise<{ remove(): Promise<void> }> {
  const p = await tp.client.get(proxy);
  return p.addToxic({
    name: `latency-${latencyMs}`,
    type: "latency",
    stream: "downstream",
    toxicity: 1,
    attributes: { latency: latencyMs, jitter: jitterMs },
  });
}
