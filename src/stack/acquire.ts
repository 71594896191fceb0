import type { CutoverConfig } from "../config/schema.js";
import { CutoverError, EXIT } from "../util/errors.js";
import type { StackEndpoints } from "./endpoints.js";
import { downLocal, upLocal } from "./local/local-stack.js";
import type { ProgressSink } from "./progress.js";

/** A stack to run against: the one already up in the run dir, or one started for this command and stopped after. */
export interface StackHandle {
  endpoints: StackEndpoints;
  /** The local run dir, when there is one (logs and configs a suite may read). */
  runDir?: string;
  startedHere: boolean;
  release(): Promise<void>;
}

export async function acquireStack(
  config: CutoverConfig,
  runDir: string,
  progress: ProgressSink,
): Promise<StackHandle> {
  switch (config.stack.kind) {
    case "local": {
      const up = await upLocal({ config, runDir, progress });
      const startedHere = up.kind === "started";
      return {
        endpoints: up.endpoints,
        runDir,
        startedHere,
        release: async () => {
          if (startedHere) await downLocal(runDir);
        },
      };
    }
    default:
      throw new CutoverError(
        `--stack ${config.stack.kind} is not available yet; use --stack local`,
        EXIT.usage,
      );
  }
}
