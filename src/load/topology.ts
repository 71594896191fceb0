import type { Recipient } from "../drivers/driver.js";

/**
 * Who talks to whom. Users are formed into units — a pair, a group, or a user alone —
 * and a unit always lives whole in one worker, so a message's sender and all of its
 * recipients share that worker's ledger and clock.
 */
export type TopologyInput =
  | { kind: "pairs" }
  /** `mixed`: every member sends, to its group and to a partner in it (a steady chat + group mix). */
  | { kind: "groups"; size: number; mixed?: boolean }
  /** No messaging between users: logins, connections. */
  | { kind: "solo" };

export interface Unit {
  members: number[];
  /** Users the dispatcher hands operations to. */
  senders: number[];
  /** Index into the run's groups, for group units. */
  group?: number;
  /** Members also chat one-to-one with a partner in the group. */
  mixed?: boolean;
}

export function formUnits(users: number, t: TopologyInput): Unit[] {
  const units: Unit[] = [];
  if (t.kind === "solo") {
    for (let i = 0; i < users; i++) units.push({ members: [i], senders: [i] });
  } else if (t.kind === "pairs") {
    for (let i = 0; i + 1 < users; i += 2) units.push({ members: [i, i + 1], senders: [i, i + 1] });
  } else {
    let g = 0;
    for (let i = 0; i + t.size <= users; i += t.size, g++) {
      const members = Array.from({ length: t.size }, (_, j) => i + j);
      // One sender per group (its owner): fan-out is measured, not many-to-many chatter — unless mixed.
      units.push(
        t.mixed ? { members, senders: members, group: g, mixed: true } : { members, senders: [i], group: g },
      );
    }
  }
  return units;
}

/**
 * One shard's units out of the whole run's: every count-th unit from its index (so shards get
 * as many senders as whole units allow), renumbered from 0 — the shard registers only its own
 * users, and a unit is never split, so every pair and group lives inside one shard.
 */
export function shardUnits(units: Unit[], shard: { index: number; count: number }): Unit[] {
  if (shard.count <= 1) return units;
  const out: Unit[] = [];
  let next = 0;
  let group = 0;
  for (const [i, unit] of units.entries()) {
    if (i % shard.count !== shard.index) continue;
    const renumber = new Map(unit.members.map((m) => [m, next++] as const));
    const at = (m: number) => renumber.get(m) as number;
    out.push({
      ...unit,
      members: unit.members.map(at),
      senders: unit.senders.map(at),
      ...(unit.group !== undefined ? { group: group++ } : {}),
    });
  }
  return out;
}

/** How many users the topology uses out of `users` (a pair or group is never split). */
export function usersUsed(users: number, t: TopologyInput): number {
  return formUnits(users, t).reduce((a, u) => a + u.members.length, 0);
}

/** Spreads units over workers, each to the one with the fewest senders so far (rates follow senders). */
export function assignUnits(units: Unit[], workers: number): Unit[][] {
  const out: Unit[][] = Array.from({ length: Math.max(1, workers) }, () => []);
  const load = out.map(() => 0);
  for (const unit of units) {
    let best = 0;
    for (let w = 1; w < load.length; w++) if ((load[w] ?? 0) < (load[best] ?? 0)) best = w;
    out[best]?.push(unit);
    load[best] = (load[best] ?? 0) + unit.senders.length;
  }
  return out;
}

/** What a sender sends to: stream key, the driver's recipient, and who must receive it. */
export interface TargetPlan {
  key: string;
  recipient: Recipient;
  recipients: number[];
}

export function peerTarget(unit: Unit, sender: number, userIDs: string[]): TargetPlan | undefined {
  if (unit.group !== undefined && !unit.mixed) return undefined;
  // Partners are neighbours: (0,1), (2,3), …; an odd one out talks to the first member.
  const at = unit.members.indexOf(sender);
  const peer = unit.members[at ^ 1] ?? (at === 0 ? undefined : unit.members[0]);
  if (peer === undefined || peer === sender) return undefined;
  return { key: `u${peer}`, recipient: { userID: userIDs[peer] ?? "" }, recipients: [peer] };
}

export function groupTarget(unit: Unit, sender: number, groupID: string | undefined): TargetPlan | undefined {
  if (unit.group === undefined || groupID === undefined) return undefined;
  return {
    key: `g${unit.group}`,
    recipient: { groupID },
    recipients: unit.members.filter((m) => m !== sender),
  };
}
