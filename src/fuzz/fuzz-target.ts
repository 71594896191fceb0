import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { runDirLayout } from "../stack/local/layout.js";
import { readState } from "../stack/local/state.js";
import { CutoverError, EXIT } from "../util/errors.js";
import type { FuzzTarget } from "./fuzz-cases.js";
import type { FuzzServiceOptions } from "./fuzz-run.js";
import type { NamedSecret } from "./leaks.js";

/**
 * Where a fuzz target lives in a local stack's run dir, and what it must never reveal: read
 * from the run dir's state and the service's own config (its JWT key is what forged and
 * expired tokens are made against, and a secret to look for).
 */

const jwtConfigSchema = z.object({
  secret: z.string().min(1),
  issuer: z.string().optional(),
  audience: z.string().optional(),
});
const serviceConfigSchema = z.object({ jwt: jwtConfigSchema, adminSecret: z.string().optional() });

/** Database and broker URLs carry passwords: user:password@host. */
function urlPassword(name: string, url: string | undefined): NamedSecret[] {
  if (!url) return [];
  try {
    const password = decodeURIComponent(new URL(url).password);
    return password ? [{ name, value: password }] : [];
  } catch {
    return [];
  }
}

export function fuzzTargetFromRunDir(
  target: FuzzTarget,
  runDir: string,
): Pick<FuzzServiceOptions, "baseURL" | "secrets" | "jwt" | "logFile"> {
  const layout = runDirLayout(runDir);
  const state = readState(layout.state);
  const endpoints = state?.endpoints;
  if (!endpoints)
    throw new CutoverError(`no stack up in ${runDir} (start one with \`cutover up\`)`, EXIT.failures);
  const baseURL = target === "gateway" ? endpoints.gateway : endpoints.legacy?.internal?.chat;
  if (!baseURL)
    throw new CutoverError(
      `the stack in ${runDir} has no ${target === "gateway" ? "reference gateway" : "legacy chat service"} to fuzz`,
      EXIT.failures,
    );
  const configFile = path.join(layout.config, target === "gateway" ? "gateway.json" : "legacy.json");
  if (!existsSync(configFile))
    throw new CutoverError(`no ${configFile}: is ${runDir} a local stack?`, EXIT.failures);
  const config = serviceConfigSchema.parse(JSON.parse(readFileSync(configFile, "utf8")));
  const secrets: NamedSecret[] = [
    { name: "admin secret", value: endpoints.adminSecret },
    { name: `${target} JWT key`, value: config.jwt.secret },
    ...(endpoints.gatewayAdmin
      ? [{ name: "gateway admin password", value: endpoints.gatewayAdmin.password }]
      : []),
    ...urlPassword("redis password", endpoints.redis),
    ...urlPassword("postgres password", endpoints.legacy?.internal?.postgres),
    ...urlPassword("amqp password", endpoints.legacy?.internal?.amqp),
  ];
  return {
    baseURL,
    secrets,
    // The defaults of reference/gateway/src/config.ts, whose jwt settings the legacy service shares.
    jwt: {
      secret: config.jwt.secret,
      issuer: config.jwt.issuer ?? "cutover-gateway",
      audience: config.jwt.audience ?? "cutover",
    },
    logFile: path.join(layout.logs, target === "gateway" ? "gateway.log" : "legacy-chat.log"),
  };
}
