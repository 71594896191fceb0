import type { LoadResults } from "../report/results-schema.js";

/**
 * What every shard of one run must agree on, field by field, so a difference is named ("rate:
 * 100 vs 200") rather than reported as a hash mismatch: the start barrier refuses a shard that
 * differs, and `cutover merge` refuses to add up shards of different runs.
 */
export type ShardIdentity = Record<string, string>;

export function shardIdentity(
  r: Pick<LoadResults, "scenario" | "parameters" | "target">,
  o: {
    cutoverVersion: string;
    count: number;
    thresholds: string[];
  },
): ShardIdentity {
  const p = r.parameters;
  return {
    cutover: o.cutoverVersion,
    scenario: r.scenario.name,
    shards: String(o.count),
    driver: r.target.driver,
    stack: r.target.stack,
    model: JSON.stringify(p.model),
    users: String(p.users),
    topology: JSON.stringify(p.topology),
    connect: p.connect,
    maxInFlightPerUser: String(p.maxInFlightPerUser),
    drainMs: String(p.drainMs),
    intervalMs: String(p.intervalMs),
    thresholds: o.thresholds.join(", "),
  };
}

/** The first field two identities disagree on, as one line; undefined when they agree. */
export function identityDifference(
  a: ShardIdentity,
  b: ShardIdentity,
  names: [string, string],
): string | undefined {
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (a[key] !== b[key])
      return `${names[1]} differs from ${names[0]} in ${key}: ${a[key] ?? "(none)"} vs ${b[key] ?? "(none)"}`;
  }
  return undefined;
}
