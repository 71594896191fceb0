import { existsSync } from "node:fs";
import path from "node:path";
import { request } from "undici";
import type { CutoverConfig } from "../../config/schema.js";
import { type TargetProfile, targetProfileSchema } from "../../conformance-runner/profile.js";
import { CutoverError, EXIT, errorMessage } from "../../util/errors.js";
import type { StackEndpoints } from "../endpoints.js";

/**
 * A deployment cutover did not start, by URL (config `stack.external`). Nothing is started or
 * stopped; what the config does not offer (admin secret, Redis, the run dir of a local stack)
 * becomes `false` in the target profile, and the suites skip what needs it.
 */
export interface ExternalTarget {
  endpoints: StackEndpoints;
  profile: TargetProfile;
  /** The run dir of a cutover local stack the deployment is, when the config names one. */
  localRunDir?: string;
}

const where = (field: string) => `stack.external.${field}`;

function usage(message: string): never {
  throw new CutoverError(message, EXIT.usage);
}

/** nginx's /msg_gateway route as a WebSocket URL: http → ws, https → wss. */
export function defaultWsURL(nginx: string): string {
  const url = new URL(nginx);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/msg_gateway`;
  return url.toString();
}

/** The profile: explicit settings win; the rest follows from what the config offers. */
export function externalProfile(config: CutoverConfig): TargetProfile {
  const ext = config.stack.external;
  const set = ext.profile ?? {};
  const offered = {
    adminAccess: Boolean(ext.openimApi && ext.adminSecret),
    redisAccess: Boolean(ext.redis),
    localFiles: Boolean(ext.localRunDir),
  };
  const needs: Record<keyof typeof offered, string> = {
    adminAccess: `${where("openimApi")} and ${where("adminSecret")}`,
    redisAccess: where("redis"),
    localFiles: where("localRunDir"),
  };
  for (const key of Object.keys(offered) as Array<keyof typeof offered>) {
    if (set[key] === true && !offered[key])
      usage(`${where(`profile.${key}`)} is true but ${needs[key]} is not set`);
  }
  return targetProfileSchema.parse({
    ...set,
    adminAccess: set.adminAccess ?? offered.adminAccess,
    redisAccess: set.redisAccess ?? offered.redisAccess,
    localFiles: set.localFiles ?? offered.localFiles,
  });
}

/** The endpoints object from the config; "" stands for what the deployment does not offer. */
export function externalTarget(config: CutoverConfig): ExternalTarget {
  const ext = config.stack.external;
  if (!ext.nginx)
    usage(
      `--stack external needs ${where("nginx")}: the base URL apps reach (REST /api/, WebSocket /msg_gateway)`,
    );
  const profile = externalProfile(config);
  const localRunDir = ext.localRunDir ? path.resolve(ext.localRunDir) : undefined;
  if (localRunDir && !existsSync(localRunDir)) usage(`${where("localRunDir")} ${localRunDir} does not exist`);
  const nginx = ext.nginx.replace(/\/+$/, "");
  const label = ext.label ?? "external deployment";
  const endpoints: StackEndpoints = {
    stack: "external",
    nginx,
    wsURL: ext.wsURL ?? defaultWsURL(nginx),
    openimApi: profile.adminAccess && ext.openimApi ? ext.openimApi.replace(/\/+$/, "") : "",
    openimWs: ext.openimWs ?? "",
    redis: profile.redisAccess && ext.redis ? ext.redis : "",
    ...(ext.gateway ? { gateway: ext.gateway.replace(/\/+$/, "") } : {}),
    ...(ext.gatewayAdmin ? { gatewayAdmin: ext.gatewayAdmin } : {}),
    ...(ext.prometheus ? { prometheus: ext.prometheus.replace(/\/+$/, "") } : {}),
    adminSecret: profile.adminAccess ? (ext.adminSecret ?? "") : "",
    adminUserID: ext.adminUserID ?? config.openim.adminUserID,
    parts: [
      {
        name: "deployment",
        what: `${label} at ${nginx}`,
        note: "not started by cutover: its parts, versions, sizing and configuration are the deployment's own and were not inspected",
      },
    ],
  };
  return { endpoints, profile, ...(localRunDir ? { localRunDir } : {}) };
}

/** Anything answering HTTP at the edge will do (a team's ingress need not have /healthz). */
export async function probeExternal(endpoints: StackEndpoints, timeoutMs = 5000): Promise<void> {
  try {
    const res = await request(endpoints.nginx, {
      method: "GET",
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    await res.body.dump();
  } catch (err) {
    throw new CutoverError(
      `the external stack at ${endpoints.nginx} does not answer: ${errorMessage(err)} — check stack.external.nginx`,
      EXIT.stack,
    );
  }
}
