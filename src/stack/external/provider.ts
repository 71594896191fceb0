import type { StackProvider } from "../provider.js";
import { checkEndpoints } from "./endpoint-health.js";
import { externalTarget, probeExternal } from "./external-stack.js";

export const externalProvider: StackProvider = {
  describe: "a deployment cutover did not start",
  offers: { startsStack: false, processSampling: false },
  async up({ config }) {
    const began = performance.now();
    const target = externalTarget(config);
    await probeExternal(target.endpoints);
    return { kind: "external", endpoints: target.endpoints, ms: performance.now() - began };
  },
  async acquire({ config }) {
    const target = externalTarget(config);
    await probeExternal(target.endpoints);
    return {
      endpoints: target.endpoints,
      ...(target.localRunDir ? { runDir: target.localRunDir } : {}),
      profile: target.profile,
      profileSet: config.stack.external.profile ?? {},
      startedHere: false,
      release: async () => {},
    };
  },
  async status({ config }) {
    const target = externalTarget(config);
    return { endpoints: target.endpoints, checks: await checkEndpoints(target.endpoints, target.profile) };
  },
  async down({ config }) {
    return `nothing to stop: the external stack (${config.stack.external.nginx ?? "stack.external"}) is not started by cutover`;
  },
};
