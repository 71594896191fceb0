import type { CutoverConfig } from "../config/schema.js";
import type { TargetProfile } from "../conformance-runner/profile.js";
import type { StackEndpoints } from "./endpoints.js";
import type { HealthCheck } from "./health-check.js";
import type { ProgressSink } from "./progress.js";

/**
 * What a stack provider is (Complement's `Deployment`, in cutover's terms): something that can
 * bring a target up, hand it to one command, say how it is, and take it down — always answering
 * with the same endpoints object, so nothing downstream knows which provider made it.
 */
export interface StackProvider {
  /** What `--stack <kind>` shows in --help. */
  readonly describe: string;
  /** What the provider can do beyond endpoints: a report says what it could not measure. */
  readonly offers: {
    /** cutover starts and stops the stack (else it only points at one). */
    startsStack: boolean;
    /** CPU/RSS of the system under test can be sampled from /proc. */
    processSampling: boolean;
  };
  /** `cutover up`: start (or find) the stack and leave it running. */
  up(ctx: ProviderContext): Promise<StackUp>;
  /** A stack for one command: the one already up, or one started now and stopped by `release`. */
  acquire(ctx: ProviderContext): Promise<StackHandle>;
  /** `cutover status` by endpoints (the local stack also checks its processes, in its own command path). */
  status(ctx: ProviderContext): Promise<{ endpoints: StackEndpoints; checks: HealthCheck[] }>;
  /** `cutover down`: one line saying what was done. */
  down(ctx: ProviderContext): Promise<string>;
}

export interface ProviderContext {
  config: CutoverConfig;
  runDir: string;
  progress: ProgressSink;
  /** The command leaves a stack it starts running (`--keep`): a provider must not arrange its removal at exit. */
  keep?: boolean;
}

/** A stack to run against: the one already up in the run dir, or one started for this command and stopped after. */
export interface StackHandle {
  endpoints: StackEndpoints;
  /** The local run dir, when there is one (logs and configs a suite may read). */
  runDir?: string;
  /** What the target offers and how it is configured; suites skip, with the reason, what it lacks. */
  profile: TargetProfile;
  /** The profile settings the config states outright (the rest of `profile` is derived or default). */
  profileSet?: Partial<TargetProfile>;
  startedHere: boolean;
  release(): Promise<void>;
  /** Every component checked, where the provider knows its stack's parts (else `run` uses the local stack's checks). */
  health?(): Promise<HealthCheck[]>;
}

export interface StackUp {
  kind: "started" | "already-up" | "external";
  endpoints: StackEndpoints;
  ms: number;
}
