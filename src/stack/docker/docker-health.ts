import { defaultProfile } from "../../conformance-runner/profile.js";
import { errorMessage } from "../../util/errors.js";
import { checkEndpoints } from "../external/endpoint-health.js";
import type { HealthCheck } from "../health-check.js";
import { type ProjectContainer, projectContainers } from "./docker-engine.js";
import type { DockerState } from "./docker-state.js";

/** One line per compose service, as the engine sees its container. */
export function containerChecks(services: string[], containers: ProjectContainer[]): HealthCheck[] {
  return services.map((service) => {
    const c = containers.find((x) => x.service === service);
    const name = `container ${service}`;
    if (!c) return { name, ok: false, detail: "no container (removed, or the stack is another project)" };
    const ok = c.state === "running" && (c.health === undefined || c.health === "healthy");
    return { name, ok, detail: c.health ? `${c.state}, ${c.health}` : c.state };
  });
}

/**
 * `status` and `run` of a docker stack: each container as the engine reports it, then every part
 * exercised through its published port (the checks any stack known by its endpoints gets).
 */
export async function checkDockerHealth(state: DockerState, services: string[]): Promise<HealthCheck[]> {
  process.env.DOCKER_HOST ??= state.dockerHost;
  const containers = await projectContainers(state.projectName).then(
    (list) => containerChecks(services, list),
    (err: unknown) => [{ name: "docker engine", ok: false, detail: errorMessage(err) }],
  );
  return [...containers, ...(await checkEndpoints(state.endpoints, defaultProfile()))];
}
