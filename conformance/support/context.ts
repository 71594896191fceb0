import type { TargetProfile } from "../../src/conformance-runner/profile.js";
import type { StackEndpoints } from "../../src/stack/endpoints.js";

/** What the runner (or the integration tests' global setup) provides to every suite. */
declare module "vitest" {
  export interface ProvidedContext {
    endpoints: StackEndpoints;
    /** The local stack's run directory, when the target is a local stack (logs, configs). */
    runDir: string;
    profile: TargetProfile;
  }
}

import "./case-meta.js";
