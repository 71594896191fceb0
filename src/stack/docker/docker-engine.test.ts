import { mkdtempSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { findDockerEngine, parseDockerHost } from "./docker-engine.js";

describe("finding the Docker engine", () => {
  test("DOCKER_HOST is read as docker reads it", () => {
    expect(parseDockerHost("unix:///run/docker.sock", "x")).toMatchObject({
      kind: "unix",
      socketPath: "/run/docker.sock",
    });
    expect(parseDockerHost("tcp://10.1.2.3:2375", "x")).toMatchObject({
      kind: "tcp",
      host: "10.1.2.3",
      port: 2375,
    });
    expect(parseDockerHost("npipe:////./pipe/docker_engine", "x")).toMatchObject({ kind: "other" });
  });

  test("no socket: answered at once, with the reason", async () => {
    const started = performance.now();
    const engine = await findDockerEngine({ DOCKER_HOST: "unix:///nonexistent/docker.sock" });
    expect(engine).toEqual({ ok: false, reason: "no socket at /nonexistent/docker.sock (DOCKER_HOST)" });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  test("nothing listening on a TCP DOCKER_HOST: answered within the timeout", async () => {
    const engine = await findDockerEngine({ DOCKER_HOST: "tcp://127.0.0.1:1" }, 500);
    expect(engine.ok).toBe(false);
    if (!engine.ok)
      expect(engine.reason).toMatch(/^nothing answers at tcp:\/\/127\.0\.0\.1:1 \(DOCKER_HOST\)/);
  });

  test("an engine answering /_ping on its socket is found", async () => {
    const socketPath = path.join(mkdtempSync(path.join(os.tmpdir(), "cutover-engine-")), "docker.sock");
    const server = http.createServer((req, res) => {
      res.statusCode = req.url === "/_ping" ? 200 : 404;
      res.end("OK");
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      const engine = await findDockerEngine({ DOCKER_HOST: `unix://${socketPath}` });
      expect(engine).toMatchObject({ ok: true, dockerHost: `unix://${socketPath}`, local: true });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
