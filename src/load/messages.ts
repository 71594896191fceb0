import type { DriverUser } from "../drivers/driver.js";
import type { Counters, ErrorCounts } from "../metrics/counters.js";
import type { StackEndpoints } from "../stack/endpoints.js";
import type { DriverSpec } from "./driver-factory.js";
import type { Model } from "./model.js";
import type { TargetPlan } from "./topology.js";

/** What the main thread and a worker say to each other: plain, structured-cloneable data. */

export interface PlanUser {
  index: number;
  user: DriverUser;
  sender: boolean;
  peer?: TargetPlan;
  group?: TargetPlan;
}

export interface WorkerPlan {
  worker: number;
  run: string;
  driver: DriverSpec;
  endpoints: StackEndpoints;
  scenarioFile?: string;
  users: PlanUser[];
  /** Also append every latency sample (µs) to text files here: an audit trail for the percentiles. */
  rawSamplesDir?: string;
  connectAtSetup: boolean;
  setupConcurrency: number;
  maxInFlightPerUser: number;
}

export interface PhaseSpec {
  id: number;
  /** This worker's share of the model (rates already scaled). */
  model: Model;
  closedVus: number;
  t0Us: number;
  intervalMs: number;
  drainMs: number;
  /** This shard's operations of the schedule (k ≡ index mod count); absent: all of them. */
  segment?: { index: number; count: number };
}

/** Counters are cumulative for the phase; histograms hold only what was recorded since the last report. */
export interface WorkerReport {
  counters: Counters;
  errors: ErrorCounts;
  histograms: Record<string, string>;
  inFlight: number;
  connected: number;
}

export type MainToWorker =
  | { type: "init"; plan: WorkerPlan }
  | { type: "phase"; phase: PhaseSpec }
  | { type: "stop" }
  | { type: "teardown" };

export type WorkerToMain =
  | { type: "ready"; worker: number; report: WorkerReport }
  /** Users logged in and connected so far during setup (a setup of thousands takes minutes). */
  | { type: "setup-progress"; worker: number; done: number; failed: number }
  | { type: "interval"; worker: number; phase: number; index: number; report: WorkerReport }
  | { type: "phase-done"; worker: number; phase: number; index: number; report: WorkerReport }
  | { type: "closed"; worker: number }
  | { type: "fatal"; worker: number; message: string };
