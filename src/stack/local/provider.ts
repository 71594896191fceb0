import { defaultProfile } from "../../conformance-runner/profile.js";
import { CutoverError, EXIT } from "../../util/errors.js";
import type { StackProvider } from "../provider.js";
import { downLocal, upLocal } from "./local-stack.js";

export const localProvider: StackProvider = {
  describe: "the embedded local stack",
  offers: { startsStack: true, processSampling: true },
  async up({ config, runDir, progress }) {
    const up = await upLocal({ config, runDir, progress });
    return { kind: up.kind, endpoints: up.endpoints, ms: up.kind === "started" ? up.ms : 0 };
  },
  async acquire({ config, runDir, progress }) {
    const up = await upLocal({ config, runDir, progress });
    const startedHere = up.kind === "started";
    return {
      endpoints: up.endpoints,
      runDir,
      profile: defaultProfile(),
      startedHere,
      release: async () => {
        if (startedHere) await downLocal(runDir);
      },
    };
  },
  status() {
    // The local stack's status checks its recorded processes as well; `cutover status` does that itself.
    throw new CutoverError("the local stack's status is checked from its run dir", EXIT.failures);
  },
  async down({ runDir }) {
    const down = await downLocal(runDir);
    return down.hadStack
      ? `stopped ${down.stopped} processes (logs kept in ${down.runDir}/logs)`
      : `no stack in ${down.runDir}`;
  },
};
