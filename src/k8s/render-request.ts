import { readFileSync } from "node:fs";
import { stringify } from "yaml";
import { z } from "zod";
import { loadConfig } from "../config/load.js";
import { parseDuration } from "../load/duration.js";
import { modelDurationMs } from "../load/model.js";
import { loadScenario } from "../load/scenario.js";
import { type LoadOverrides, resolveSettings } from "../load/settings.js";
import { externalTarget } from "../stack/external/external-stack.js";
import { UsageError } from "../util/errors.js";
import { cutoverVersion } from "../util/package-root.js";
import type { AntiAffinity, RenderInput, ResultsTarget } from "./render-manifests.js";
import { formatS3Url, parseS3Url } from "./s3-url.js";

/** What `cutover k8s render` takes besides the scenario, as commander hands it over. */
export type RenderFlags = LoadOverrides & {
  shards?: string;
  config?: string;
  name?: string;
  namespace?: string;
  image?: string;
  antiAffinity?: string;
  cpu?: string;
  memory?: string;
  cpuLimit?: string;
  memoryLimit?: string;
  results?: string;
  resultsSize?: string;
  storageClass?: string;
  s3Secret?: string;
  barrierPort?: string;
  deadline?: string;
  warmup?: string;
  barrierTimeout?: string;
};

/** `cutover load` flags that travel unchanged to every shard: the same run, split N ways. */
const PASSED_THROUGH = {
  driver: "--driver",
  rate: "--rate",
  users: "--users",
  duration: "--duration",
  ramp: "--ramp",
  think: "--think",
  groupSize: "--group-size",
  drain: "--drain",
  workers: "--workers",
  interval: "--interval",
  warmup: "--warmup",
  barrierTimeout: "--barrier-timeout",
} as const satisfies Partial<Record<keyof RenderFlags, string>>;

const MAX_SHARDS = 1000;
/** Pod hostnames are `<job>-<index>` and pod names add a suffix: both must stay DNS labels (≤ 63). */
const MAX_NAME = 40;
const dnsLabel = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const quantity = /^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?$/;

function field<T>(flag: string, schema: z.ZodType<T>, value: unknown, expected: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new UsageError(`${flag} ${String(value)}: expected ${expected}`);
  return parsed.data;
}

const shardsSchema = z.coerce.number().int().min(1).max(MAX_SHARDS);
const nameSchema = z.string().max(MAX_NAME).regex(dnsLabel);
const quantitySchema = z.string().regex(quantity);
const portSchema = z.coerce.number().int().min(1024).max(65535);

export function defaultJobName(scenario: string): string {
  const stem = `cutover-${scenario}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .slice(0, MAX_NAME);
  return stem.replace(/-+$/, "");
}

function resultsTarget(flags: RenderFlags): ResultsTarget {
  const where = flags.results ?? "volume";
  if (where === "volume")
    return {
      kind: "volume",
      claimSize: field(
        "--results-size",
        quantitySchema,
        flags.resultsSize ?? "1Gi",
        "a quantity such as 1Gi",
      ),
      ...(flags.storageClass ? { storageClass: flags.storageClass } : {}),
    };
  if (!where.startsWith("s3://"))
    throw new UsageError(`--results ${where}: expected volume or s3://<bucket>/<prefix>`);
  return {
    kind: "s3",
    url: formatS3Url(parseS3Url(where)),
    secret: field("--s3-secret", nameSchema, flags.s3Secret ?? "cutover-s3", "a Secret's name (a DNS label)"),
  };
}

function resources(flags: RenderFlags): RenderInput["resources"] {
  const q = (flag: string, value: string) =>
    field(flag, quantitySchema, value, "a quantity such as 500m or 2Gi");
  const limits: Record<string, string> = {};
  if (flags.cpuLimit) limits.cpu = q("--cpu-limit", flags.cpuLimit);
  if (flags.memoryLimit) limits.memory = q("--memory-limit", flags.memoryLimit);
  return {
    requests: { cpu: q("--cpu", flags.cpu ?? "1"), memory: q("--memory", flags.memory ?? "1Gi") },
    limits,
  };
}

function loadArgs(flags: RenderFlags): string[] {
  const args: string[] = [];
  for (const [key, flag] of Object.entries(PASSED_THROUGH)) {
    const value = flags[key as keyof typeof PASSED_THROUGH];
    if (value !== undefined) args.push(flag, value);
  }
  if (flags.closed) args.push("--closed");
  for (const threshold of flags.threshold ?? []) args.push("--threshold", threshold);
  return args;
}

/**
 * The config the pods read: the user's own (checked as `cutover load` checks it), aimed at the
 * external stack it names. What only makes sense on this machine stays here.
 */
async function podConfig(file: string | undefined): Promise<string> {
  const { config } = await loadConfig({ file });
  if (Object.keys(config.drivers).length > 0)
    throw new UsageError(
      `the config names drivers (${Object.keys(config.drivers).join(", ")}): their modules do not travel into the pods; render with a config without them`,
    );
  config.stack.kind = "external";
  delete config.stack.external.localRunDir;
  // The one check `--stack external` makes before it connects: fail here, not in N pods.
  externalTarget(config);
  return stringify(config, { lineWidth: 0 });
}

/** Everything `renderManifests` needs, each flag checked with a one-line error naming it (exit 2). */
export async function renderRequest(scenarioArg: string, flags: RenderFlags): Promise<RenderInput> {
  const shards = field("--shards", shardsSchema, flags.shards, `a whole number from 1 to ${MAX_SHARDS}`);
  const scenario = await loadScenario(scenarioArg);
  if (flags.driver && /[/\\]|\.[cm]?[jt]s$/.test(flags.driver))
    throw new UsageError(
      `--driver ${flags.driver}: a driver module does not travel into the pods; name a built-in driver`,
    );
  const configYaml = await podConfig(flags.config);
  const settings = resolveSettings(scenario.options, flags);
  const warmup = flags.warmup ?? "auto";
  if (warmup !== "auto" && parseDuration(warmup) === undefined)
    throw new UsageError(`--warmup ${warmup}: expected auto, 0 or a duration`);
  const barrierMs = parseDuration(flags.barrierTimeout ?? "15m");
  if (barrierMs === undefined)
    throw new UsageError(`--barrier-timeout ${flags.barrierTimeout}: expected a duration`);
  // Generous: image pulls, logins and the wait at the barrier come before the schedule, the drain after it.
  const expectedMs =
    barrierMs + modelDurationMs(settings.model) + settings.drainMs + (parseDuration(warmup) ?? 60_000);
  const deadlineMs = flags.deadline ? parseDuration(flags.deadline) : expectedMs + 10 * 60_000;
  if (deadlineMs === undefined || deadlineMs < 1000)
    throw new UsageError(`--deadline ${flags.deadline}: expected a duration such as 30m`);
  return {
    name: field(
      "--name",
      nameSchema,
      flags.name ?? defaultJobName(scenario.name),
      `a DNS label of at most ${MAX_NAME} characters (a-z, 0-9, -)`,
    ),
    ...(flags.namespace
      ? {
          namespace: field("--namespace", z.string().max(63).regex(dnsLabel), flags.namespace, "a DNS label"),
        }
      : {}),
    image: flags.image ?? `cutover-generator:${cutoverVersion()}`,
    shards,
    scenario: { name: scenario.name, source: readFileSync(scenario.file ?? scenarioArg, "utf8") },
    configYaml,
    loadArgs: loadArgs(flags),
    antiAffinity: field(
      "--anti-affinity",
      z.enum(["required", "preferred", "none"]),
      flags.antiAffinity ?? "preferred",
      "required, preferred or none",
    ) satisfies AntiAffinity,
    resources: resources(flags),
    results: resultsTarget(flags),
    barrierPort: field(
      "--barrier-port",
      portSchema,
      flags.barrierPort ?? "7070",
      "a port from 1024 to 65535",
    ),
    deadlineSeconds: Math.ceil(deadlineMs / 1000),
  };
}
