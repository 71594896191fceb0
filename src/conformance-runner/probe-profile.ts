import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import type { StackEndpoints } from "../stack/endpoints.js";
import { runDirLayout } from "../stack/local/layout.js";
import { type ProbeAnswer, probeMultiLoginPolicy, probeWebhooks } from "../stack/wiring-probes.js";
import type { TargetProfile } from "./profile.js";

/**
 * The target profile as the target shows it: settings that can be asked of the target are
 * probed, the rest come from the config or cutover's defaults — and every report says which.
 */

export interface ProfileFinding {
  setting: keyof TargetProfile | "logLevel";
  value: string;
  how: "probed" | "configured" | "assumed";
  detail: string;
}

export interface ProbedProfile {
  profile: TargetProfile;
  findings: ProfileFinding[];
}

export interface ProbeProfileInput {
  endpoints: StackEndpoints;
  /** The profile the stack provider derived from the config. */
  profile: TargetProfile;
  /** The settings the config states outright (an external stack's `profile`); the rest are defaults. */
  explicit?: Partial<TargetProfile>;
  runDir?: string;
}

/** OpenIM's log level from a local stack's generated log.yml (what the server-log scan can see). */
function localLogLevel(runDir: string | undefined): ProfileFinding | undefined {
  if (!runDir) return undefined;
  const file = path.join(runDirLayout(runDir).openimConfig, "log.yml");
  if (!existsSync(file)) return undefined;
  const level = (parse(readFileSync(file, "utf8")) as { remainLogLevel?: number } | null)?.remainLogLevel;
  if (level === undefined) return undefined;
  return {
    setting: "logLevel",
    value: String(level),
    how: "probed",
    detail: `read from ${file}: OpenIM writes ${level >= 6 ? "every level, debug included" : "info and above"} to its logs, which the server-log scan reads`,
  };
}

export async function probeProfile(input: ProbeProfileInput): Promise<ProbedProfile> {
  const { endpoints, explicit = {} } = input;
  const profile = { ...input.profile };
  const findings: ProfileFinding[] = [];
  const unprobed = (setting: keyof TargetProfile, why: string) => {
    const stated = explicit[setting] !== undefined;
    findings.push({
      setting,
      value: String(profile[setting]),
      how: stated ? "configured" : "assumed",
      detail: stated ? `set in the config's profile; ${why}` : `cutover's default; ${why}`,
    });
  };
  const settle = <T>(
    setting: keyof TargetProfile,
    answer: ProbeAnswer<T>,
    toSetting: (v: T) => TargetProfile[typeof setting],
  ) => {
    if (!answer.known) return unprobed(setting, `not probed: ${answer.detail}`);
    const value = toSetting(answer.value);
    const stated = explicit[setting];
    const disagrees = stated !== undefined && stated !== value ? ` (the config said ${String(stated)})` : "";
    Object.assign(profile, { [setting]: value });
    findings.push({ setting, value: String(value), how: "probed", detail: `${answer.detail}${disagrees}` });
  };

  const [webhooks, multiLogin] = await Promise.all([
    probeWebhooks(endpoints),
    probeMultiLoginPolicy(endpoints),
  ]);
  settle("moderationWebhooks", webhooks, (w) => w.beforeSend && w.afterSend);
  settle("multiLoginPolicy", multiLogin, (p) => p);
  for (const setting of ["adminAccess", "redisAccess", "localFiles"] as const)
    findings.push({
      setting,
      value: String(profile[setting]),
      how: "configured",
      detail: profile[setting]
        ? "offered by the config"
        : "not offered by the config: the cases that need it are skipped",
    });
  unprobed(
    "maxMessageSize",
    "OpenIM v3.8.3 hard-codes the WebSocket read limit (server: internal/msggateway/constant.go)",
  );
  unprobed("moderationDenyErrCode", "the errCode is the gateway's own moderation setting");
  const logLevel = localLogLevel(input.profile.localFiles ? input.runDir : undefined);
  findings.push(
    logLevel ?? {
      setting: "logLevel",
      value: "unknown",
      how: "assumed",
      detail: "the target's log.yml is not readable here: server logs are not scanned",
    },
  );
  return { profile, findings };
}

/** One line per finding, as a results file's caveats show them. */
export function findingLines(findings: ProfileFinding[]): string[] {
  // What the config offers is said by the environment's caveats already.
  return findings
    .filter((f) => f.how !== "configured")
    .map((f) => `profile ${f.setting} = ${f.value} (${f.how}): ${f.detail}`);
}
