import { defaultProfile } from "../../conformance-runner/profile.js";
import { CutoverError, EXIT } from "../../util/errors.js";
import { checkEndpoints } from "../external/endpoint-health.js";
import type { StackProvider } from "../provider.js";
import { downDocker, readDockerState, upDocker } from "./docker-stack.js";

export const dockerProvider: StackProvider = {
  describe: "the official OpenIM images with docker compose",
  offers: { startsStack: true, processSampling: false },
  async up({ config, runDir, progress }) {
    const up = await upDocker({ config, runDir, progress, keep: true });
    return { kind: up.kind, endpoints: up.endpoints, ms: up.ms };
  },
  async acquire({ config, runDir, progress }) {
    const up = await upDocker({ config, runDir, progress, keep: false });
    // The gateway's config is in the run dir (mounted into its container), as on the local stack.
    return {
      endpoints: up.endpoints,
      runDir,
      profile: defaultProfile(),
      startedHere: up.kind === "started",
      release: up.release,
    };
  },
  async status({ runDir }) {
    const state = readDockerState(runDir);
    if (!state)
      throw new CutoverError(
        `no docker stack in ${runDir} (start one with \`cutover up --stack docker\`)`,
        EXIT.failures,
      );
    return { endpoints: state.endpoints, checks: await checkEndpoints(state.endpoints, defaultProfile()) };
  },
  async down({ runDir }) {
    const down = await downDocker(runDir);
    return down.hadStack
      ? `removed docker project ${down.projectName} (containers, network, volumes; logs kept in ${down.runDir}/logs)`
      : `no docker stack in ${down.runDir}`;
  },
};
