import { spawnSync } from "node:child_process";
import type { StackEndpoints } from "../../src/stack/endpoints.js";
import { packageRoot } from "../../src/util/package-root.js";

/**
 * The environment the CLI runs in when a test starts it as a user would: no colours (output
 * is matched as text), and no run dir inherited from the test's own environment.
 */
export function cliEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  delete env.FORCE_COLOR;
  delete env.CUTOVER_RUN_DIR;
  return env;
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `cutover <args>` from source as a user would (tsx), bounded in time; never throws on a failing exit. */
export function runCutover(
  args: string[],
  opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): CliRun {
  const res = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
    cwd: packageRoot(),
    encoding: "utf8",
    timeout: opts.timeoutMs ?? 120_000,
    env: { ...cliEnv(), ...opts.env },
  });
  return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}

/** Everything a stack offers, as a team would write it in an external-stack config. */
export function externalTarget(endpoints: StackEndpoints, runDir: string): Record<string, unknown> {
  return {
    nginx: endpoints.nginx,
    wsURL: endpoints.wsURL,
    gateway: endpoints.gateway,
    openimApi: endpoints.openimApi,
    openimWs: endpoints.openimWs,
    adminSecret: endpoints.adminSecret,
    adminUserID: endpoints.adminUserID,
    redis: endpoints.redis,
    gatewayAdmin: endpoints.gatewayAdmin,
    localRunDir: runDir,
  };
}
