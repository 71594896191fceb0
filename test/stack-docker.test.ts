import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { cliEnv, runCutover } from "./support/cli.js";

// `--stack docker` as far as it can be tested on a machine without a Docker engine: the
// compose file validates with a real Compose implementation, and the CLI says in one line
// that there is no engine. (What the provider maps is unit-tested in src/stack/docker/.)

const env = cliEnv();

const composeAvailable =
  spawnSync("docker-compose", ["version", "--short"], { encoding: "utf8" }).status === 0;

function cutover(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  return runCutover(args, { timeoutMs: 60_000, env: { ...env, ...extraEnv } });
}

describe("containers/compose.yaml with Docker Compose", () => {
  test("`docker-compose -f containers/compose.yaml config` accepts it, with and without cutover's variables", (ctx) => {
    if (!composeAvailable)
      ctx.skip("docker-compose is not installed (apt-get install docker-compose; doctor lists it)");
    const plain = spawnSync("docker-compose", ["-f", "containers/compose.yaml", "config"], {
      encoding: "utf8",
      env,
    });
    expect(plain.status, plain.stderr).toBe(0);
    const resolved = parse(plain.stdout) as {
      services: Record<string, { ports?: Array<{ published: number }> }>;
    };
    expect(Object.keys(resolved.services)).toContain("openim-server");

    const withRun = spawnSync("docker-compose", ["-f", "containers/compose.yaml", "config"], {
      encoding: "utf8",
      env: { ...env, CUTOVER_NGINX_PORT: "21234", CUTOVER_GATEWAY_CONFIG_DIR: "/tmp/cutover-run/config" },
    });
    expect(withRun.status, withRun.stderr).toBe(0);
    expect(withRun.stdout).toContain("127.0.0.1:21234:80");
    expect(withRun.stdout).toContain("/tmp/cutover-run/config:/etc/cutover-gateway:ro");
    expect(withRun.stdout).toContain("ws://127.0.0.1:21234/msg_gateway");
  });
});

describe("cutover up --stack docker without a Docker engine", () => {
  test("fails fast with one clear line and exit 3, no stack trace, nothing left in the run dir", () => {
    const runDir = path.join(mkdtempSync(path.join(os.tmpdir(), "cutover-docker-")), "run");
    const started = performance.now();
    const up = cutover(["up", "--stack", "docker", "--run-dir", runDir], {
      DOCKER_HOST: "unix:///nonexistent/docker.sock",
    });
    expect(up.code, up.stderr).toBe(3);
    const lines = up.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^cutover: --stack docker needs a Docker engine and none answers here \(no socket at/,
    );
    expect(up.stderr).not.toMatch(/\bat .+:\d+:\d+\)?$/m);
    expect(up.stdout).toBe("");
    expect(performance.now() - started).toBeLessThan(30_000);
    expect(existsSync(path.join(runDir, "docker-state.json"))).toBe(false);
  });

  test("status and down of a run dir without a docker stack say so", () => {
    const runDir = mkdtempSync(path.join(os.tmpdir(), "cutover-docker-"));
    const status = cutover(["status", "--stack", "docker", "--run-dir", runDir]);
    expect(status.code).toBe(1);
    expect(status.stderr.trim()).toBe(
      `cutover: no docker stack in ${runDir} (start one with \`cutover up --stack docker\`)`,
    );
    const down = cutover(["down", "--stack", "docker", "--run-dir", runDir]);
    expect(down.code).toBe(0);
    expect(down.stdout.trim()).toBe(`no docker stack in ${runDir}`);
  });
});
