import { z } from "zod";
import type { StackEndpoints } from "../stack/endpoints.js";
import type { VirtualUser } from "./virtual-user.js";

/**
 * The scenario contract, published as `cutover/scenario`: what a scenario file exports and
 * what its function gets. A scenario reads like a k6 script: `options` (the workload model,
 * the users and how they are grouped, thresholds) and a default function for what one virtual
 * user does in one operation. Workers, sockets and histograms are the engine's business.
 *
 *   import type { ScenarioOptions, VirtualUser } from "cutover/scenario";
 *   export const options: ScenarioOptions = { model: { kind: "constant-arrival-rate", rate: 50, duration: "30s" }, users: 20 };
 *   export default async function (vu: VirtualUser) { await vu.sendText(vu.peer(), vu.payload(200)); }
 *
 * The zod schema below is the one definition: the type is derived from it, and every default
 * lives in SCENARIO_DEFAULTS.
 */

const duration = z.union([z.string(), z.number().nonnegative()]);

export const scenarioOptionsSchema = z.object({
  description: z.string().optional(),
  /** The driver to use unless --driver says otherwise. */
  driver: z.string().optional(),
  model: z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("constant-arrival-rate"), rate: z.number().nonnegative(), duration }),
    z.object({
      kind: z.literal("ramping-arrival-rate"),
      startRate: z.number().nonnegative().optional(),
      stages: z.array(z.object({ target: z.number().nonnegative(), duration })).min(1),
    }),
    z.object({
      kind: z.literal("closed"),
      vus: z.number().int().positive().optional(),
      thinkTime: duration,
      duration,
    }),
  ]),
  /** Virtual users, formed into pairs or groups by the topology. */
  users: z.number().int().positive(),
  /** How users are grouped (default pairs). */
  topology: z
    .discriminatedUnion("kind", [
      z.object({ kind: z.literal("pairs") }),
      z.object({ kind: z.literal("groups"), size: z.number().int().min(2), mixed: z.boolean().optional() }),
      z.object({ kind: z.literal("solo") }),
    ])
    .optional(),
  /** "setup": every user logs in and connects before the clock starts; "iteration": the function does it. */
  connect: z.enum(["setup", "iteration"]).optional(),
  /** Operations one user may have in flight at once; beyond that it is busy (clients pipeline sends). */
  maxInFlightPerUser: z.number().int().positive().optional(),
  /** How long after the last send to wait for deliveries before counting the rest lost. */
  drain: duration.optional(),
  /** `{ "e2e.p99": "< 200ms", lost: "== 0" }`; a list to set several on one metric. */
  thresholds: z.record(z.string(), z.union([z.string(), z.array(z.string())])).optional(),
  /** Faults injected into the local stack during the run: "latency:5ms", "reset@10s", "stall:1s@10s". */
  faults: z.array(z.string()).optional(),
  /** Per-interval drift checks for long runs (soak). */
  drift: z
    .object({
      e2eP99MaxRatio: z.number().positive().optional(),
      rssMaxRatio: z.number().positive().optional(),
      /** A service's RSS must also grow by more than this to be flagged (default 32). */
      rssMinGrowthMB: z.number().nonnegative().optional(),
      /** A data store is flagged when its growth per message in the run's second half exceeds the first's by this factor (default 2). */
      storePerMessageMaxRatio: z.number().positive().optional(),
      skipFirst: z.number().int().nonnegative().optional(),
    })
    .optional(),
});

export type ScenarioOptions = z.input<typeof scenarioOptionsSchema>;

/** What a scenario leaves unsaid, in one place. */
export const SCENARIO_DEFAULTS = {
  driver: "openim",
  topology: { kind: "pairs" },
  connect: "setup",
  maxInFlightPerUser: 16,
  drainMs: 10_000,
  intervalMs: 1000,
} as const;

export type ScenarioFunction = (vu: VirtualUser) => Promise<void>;

export interface ScenarioModule {
  options: ScenarioOptions;
  default: ScenarioFunction;
}

/** What an HTTP scenario's `http(ctx)` gets: the stack, and ways to get credentials for it. */
export interface HttpContext {
  endpoints: StackEndpoints;
  /** OpenIM's admin token (imAdmin). */
  adminToken(): Promise<string>;
  /** Fresh users registered in OpenIM directly. */
  newUsers(count: number): Promise<string[]>;
  /** A fresh user registered and logged in through the gateway: its JWT for `/api/im/*`. */
  gatewayLogin(): Promise<{ userID: string; jwt: string }>;
}

/** The one request an HTTP scenario sends at the model's rate (autocannon). */
export interface HttpPlan {
  url: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  /** `[<id>]` in the body is replaced by a fresh id on every request (autocannon's idReplacement). */
  body?: string;
  /** "openim-envelope": a 200 whose JSON `errCode` is not 0 is an error too, counted by its code. */
  check?: "status" | "openim-envelope";
  connections?: number;
}

export type HttpScenarioFunction = (ctx: HttpContext) => Promise<HttpPlan>;

export type { MessageTarget, VirtualUser } from "./virtual-user.js";
