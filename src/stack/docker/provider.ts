import { defaultProfile } from "../../conformance-runner/profile.js";
import { CutoverError, EXIT } from "../../util/errors.js";
import type { StackProvider } from "../provider.js";
import { readComposeFile } from "./compose-file.js";
import { checkDockerHealth } from "./docker-health.js";
import { type DockerState, downDocker, readDockerState, upDocker } from "./docker-stack.js";

const servicesOf = (state: DockerState) => Object.keys(readComposeFile(state.composeFile).services);

export const dockerProvider: StackProvider = {
  describe: "the official OpenIM images with docker compose",
  offers: { startsStack: true, processSampling: false },
  async up({ config, runDir, progress }) {
    const up = await upDocker({ config, runDir, progress, keep: true });
    up.detach();
    return { kind: up.kind, endpoints: up.endpoints, ms: up.ms };
  },
  async acquire({ config, runDir, progress, keep }) {
    // --keep: the stack outlives the command, so it starts without testcontainers' reaper.
    const up = await upDocker({ config, runDir, progress, keep: keep === true });
    return {
      endpoints: up.endpoints,
      // The gateway's config and the tapped container logs are in the run dir, as on the local stack.
      runDir,
      profile: defaultProfile(),
      startedHere: up.kind === "started",
      release: up.release,
      health: () => checkDockerHealth(up.state, servicesOf(up.state)),
    };
  },
  async status({ runDir }) {
    const state = readDockerState(runDir);
    if (!state)
      throw new CutoverError(
        `no docker stack in ${runDir} (start one with \`cutover up --stack docker\`)`,
        EXIT.failures,
      );
    return { endpoints: state.endpoints, checks: await checkDockerHealth(state, servicesOf(state)) };
  },
  async down({ runDir }) {
    const down = await downDocker(runDir);
    return down.hadStack
      ? `removed docker project ${down.projectName} (containers, network, volumes; logs kept in ${down.runDir}/logs)`
      : `no docker stack in ${down.runDir}`;
  },
};
