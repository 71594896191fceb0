import { describe, expect, test } from "vitest";
import { findDockerEngine, type ProjectContainer } from "./docker-engine.js";
import { containerChecks } from "./docker-health.js";
import { servicesNotHealthy } from "./docker-ready.js";
import { openimStartFailure } from "./openim-start-failure.js";

const running = (service: string, health?: string): ProjectContainer => ({
  id: service,
  service,
  state: "running",
  health,
});

describe("what the engine says of each service", () => {
  test("ready means every service's container runs and passes its health check", () => {
    expect(
      servicesNotHealthy(["redis", "kafka"], [running("redis", "healthy"), running("kafka", "healthy")]),
    ).toEqual([]);
    expect(
      servicesNotHealthy(
        ["redis", "kafka", "nginx", "mongo"],
        [running("redis", "starting"), { ...running("kafka"), state: "exited" }, running("mongo")],
      ),
    ).toEqual(["redis: starting", "kafka: exited", "nginx: no container"]);
  });

  test("status and run list one line per service, failed when it is not running and healthy", () => {
    const checks = containerChecks(
      ["openim-server", "nginx", "gateway"],
      [running("openim-server", "unhealthy"), running("nginx", "healthy")],
    );
    expect(checks).toEqual([
      { name: "container openim-server", ok: false, detail: "running, unhealthy" },
      { name: "container nginx", ok: true, detail: "running, healthy" },
      {
        name: "container gateway",
        ok: false,
        detail: "no container (removed, or the stack is another project)",
      },
    ]);
  });
});

describe("OpenIM's start script giving up", () => {
  test("its memory check's line (open-im-server tools/check-free-memory) becomes one line saying what to do", () => {
    expect(openimStartFailure("System available memory is less than 1GB: 0.48GB\n")).toBe(
      "OpenIM did not start: its start script found 0.48 GB of memory available and needs 1 GB (give Docker more memory, or stop other containers)",
    );
    expect(openimStartFailure("System available memory is sufficient: 3.20GB\n")).toBeUndefined();
  });
});

describe("where the engine is", () => {
  test("ssh:// is another machine; npipe:// is Docker Desktop on this one", async () => {
    expect(await findDockerEngine({ DOCKER_HOST: "ssh://me@build-box" })).toMatchObject({
      ok: true,
      local: false,
    });
    expect(await findDockerEngine({ DOCKER_HOST: "npipe:////./pipe/docker_engine" })).toMatchObject({
      ok: true,
      local: true,
    });
  });
});
