import { z } from "zod";
import { type TargetProfile, targetProfileSchema } from "../conformance-runner/profile.js";
import { outputLocations } from "../run/output-locations.js";
import { STACK_KINDS } from "../stack/stack-kinds.js";

/** Every field has a default: the local stack needs no config file at all. */
const localStackSchema = z
  .object({
    /** The only OpenIM version the module proxy serves here; the build pins it in builds/openim/go.mod. */
    openimVersion: z.literal("3.8.3").default("3.8.3"),
    kafkaVersion: z
      .string()
      .regex(/^\d+\.\d+\.\d+$/, "a Kafka version such as 3.9.0")
      .default("3.9.0"),
    /** Where built binaries and fetched jars are kept between runs (outside the repo). */
    cacheDir: z.string().min(1).optional(),
    mongo: z
      .object({
        /** false: the stand-in keeps data in memory (lost on restart); true: an H2 file in the run dir. */
        persist: z.boolean().default(false),
      })
      .prefault({}),
    /** First port to try; free ports are probed upward from here. Omit to pick a random base. */
    portBase: z.number().int().min(1024).max(60000).optional(),
    startTimeoutMs: z.number().int().positive().default(120_000),
    /**
     * Which OpenIM configuration the stack runs: `cutover` turns on the gateway's four send
     * webhooks (moderation) and logs at level 3; `shipped` is OpenIM's own config/ with only
     * addresses, ports and credentials changed (webhooks off, debug logs) — how a team's
     * deployment starts out, and what `--stack external` meets before the webhooks are wired.
     */
    openimConfig: z.enum(["cutover", "shipped"]).default("cutover"),
    /** Also start the legacy pipeline (Postgres, RabbitMQ, chat/consumer/websocket services) under /legacy/. */
    legacy: z.boolean().default(true),
    /**
     * How many `openim-msggateway` processes run, as production runs several: each takes its
     * own WebSocket and RPC port (`-i <index>` into the lists of openim-msggateway.yml), nginx
     * spreads /msg_gateway over all of them and openim-push finds every one through etcd.
     */
    msgGateways: z.number().int().min(1).max(8).default(1),
  })
  .strict();

const wsUrl = z.string().regex(/^wss?:\/\//, "a ws:// or wss:// URL");

/** A profile field as the config may set it: no default here, so the provider tells "unset" from "set". */
const profileOverridesSchema = z
  .object(
    Object.fromEntries(
      Object.entries(targetProfileSchema.shape).map(([key, field]) => [key, field.unwrap().optional()]),
    ),
  )
  .strict() as unknown as z.ZodType<Partial<TargetProfile>, Partial<TargetProfile>>;

/**
 * A deployment cutover did not start (a team's staging, or a stack started elsewhere), by URL.
 * Only `nginx` is needed; each other field offers the suites one more thing, and what is not
 * offered is skipped with the reason (the provider derives the target profile from this).
 */
const externalStackSchema = z
  .object({
    /** A name for reports, e.g. "staging". */
    label: z.string().min(1).optional(),
    /** The edge apps reach: REST under /api/ (the gateway), the WebSocket under /msg_gateway. */
    nginx: z.url().optional(),
    /** The WebSocket URL apps use; default: nginx's /msg_gateway route. */
    wsURL: wsUrl.optional(),
    /** The gateway itself, for health checks (apps reach it through nginx). */
    gateway: z.url().optional(),
    /** OpenIM's REST API (internal): with adminSecret, the suites may make admin calls. */
    openimApi: z.url().optional(),
    /** OpenIM's message gateway without nginx in between, for the direct-WebSocket cases. */
    openimWs: wsUrl.optional(),
    /** OpenIM's admin secret (share.yml `secret`), only when the team allows admin calls. */
    adminSecret: z.string().min(1).optional(),
    /** The OpenIM admin user (share.yml `imAdminUserID`); default: openim.adminUserID. */
    adminUserID: z
      .string()
      .regex(/^[A-Za-z0-9_]+$/, "letters, digits and underscore only")
      .optional(),
    /** The gateway's Redis, when the imToken cache may be inspected. */
    redis: z
      .string()
      .regex(/^rediss?:\/\//, "a redis:// URL")
      .optional(),
    /** An account with the gateway's admin role, when admin routes may be called. */
    gatewayAdmin: z
      .object({ userID: z.string().min(1), password: z.string().min(1) })
      .strict()
      .optional(),
    /**
     * The team's Prometheus (HTTP API base URL) scraping OpenIM with `prometheus.enable: true`:
     * every load then reads the server's books and processes over its window, as on a local stack.
     */
    prometheus: z.url().optional(),
    /**
     * When the deployment is a cutover local stack on this machine (started by `cutover up` in
     * another run dir): that run dir, so suites may read its gateway config and its logs are scanned.
     */
    localRunDir: z.string().min(1).optional(),
    /** How the target differs from OpenIM's defaults; unset fields follow from what is offered above. */
    profile: profileOverridesSchema.optional(),
  })
  .strict();

const dockerStackSchema = z
  .object({
    /** How long the containers may take to become healthy once created (image pulls and builds not counted). */
    startTimeoutMs: z.number().int().positive().default(300_000),
    /** First host port to try; free ports are probed upward from here. Omit to pick a random base. */
    portBase: z.number().int().min(1024).max(60000).optional(),
  })
  .strict();

export const configSchema = z
  .object({
    stack: z
      .object({
        kind: z.enum(STACK_KINDS).default("local"),
        runDir: z.string().min(1).default(outputLocations.runDir),
        local: localStackSchema.prefault({}),
        docker: dockerStackSchema.prefault({}),
        external: externalStackSchema.prefault({}),
      })
      .strict()
      .prefault({}),
    /**
     * Drivers by name, for `--driver`, `--baseline-driver`, `check-driver`: a team's own stack as
     * `{ module: "./my-driver.ts", options: { url: "ws://legacy.internal:8080" } }` — the options
     * say where that stack is and reach the module's createDriver.
     */
    drivers: z
      .record(
        z.string().regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, _ . - only"),
        z
          .object({ module: z.string().min(1), options: z.record(z.string(), z.unknown()).default({}) })
          .strict(),
      )
      .default({}),
    openim: z
      .object({
        adminSecret: z.string().min(1).default("openIM123"),
        adminUserID: z
          .string()
          .regex(/^[A-Za-z0-9_]+$/, "letters, digits and underscore only")
          .default("imAdmin"),
        /** Platform used by cutover's own clients unless a case says otherwise (3 = Windows). */
        platformID: z.number().int().min(1).max(9).default(3),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type CutoverConfigInput = z.input<typeof configSchema>;
export type CutoverConfig = z.output<typeof configSchema>;
export type LocalStackConfig = CutoverConfig["stack"]["local"];
export type DockerStackConfig = CutoverConfig["stack"]["docker"];
export type ExternalStackConfig = CutoverConfig["stack"]["external"];
