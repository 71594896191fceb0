import { UsageError } from "../util/errors.js";

/**
 * Which part of a run this process is: shard `index` of `count`. A shard owns whole units of
 * users (a pair or a group is never split), so every message's sender and recipients share one
 * process and one clock; it offers every count-th operation of the one intended schedule,
 * starting at its index, so the shards' schedules interleave into exactly that schedule — as
 * k6's execution segments do.
 */
export interface Shard {
  index: number;
  count: number;
}

export const NO_SHARD: Shard = { index: 0, count: 1 };

export class ShardError extends UsageError {}

/** `i/N` as a person writes it: 0-based index, as Kubernetes' JOB_COMPLETION_INDEX is. */
export function parseShard(text: string, where = "--shard"): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw new ShardError(`${where} ${text}: expected i/N, e.g. 0/4 (shards are numbered from 0)`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) throw new ShardError(`${where} ${text}: N must be at least 1`);
  if (index >= count) throw new ShardError(`${where} ${text}: the index runs from 0 to ${count - 1}`);
  return { index, count };
}

/**
 * The shard from the flag, else from what an Indexed Job gives its pods: Kubernetes sets
 * JOB_COMPLETION_INDEX; JOB_COMPLETIONS is set by the manifest cutover renders (Kubernetes
 * does not set it). Neither: the whole run is one shard.
 */
export function resolveShard(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): Shard {
  if (flag !== undefined) return parseShard(flag);
  const index = env.JOB_COMPLETION_INDEX;
  const count = env.JOB_COMPLETIONS;
  if (index === undefined && count === undefined) return NO_SHARD;
  if (index === undefined || count === undefined)
    throw new ShardError(
      `JOB_COMPLETION_INDEX=${index ?? "(unset)"} JOB_COMPLETIONS=${count ?? "(unset)"}: a shard needs both (the rendered Job sets them), or --shard i/N`,
    );
  return parseShard(`${index}/${count}`, "JOB_COMPLETION_INDEX/JOB_COMPLETIONS");
}

export const isSharded = (s: Shard): boolean => s.count > 1;

export const shardLabel = (s: Shard): string => `shard ${s.index}/${s.count}`;

/** How many operations k in [0, total) fall to this shard (k ≡ index mod count). */
export function shardOperations(total: number, s: Shard): number {
  const all = Math.ceil(total - 1e-9);
  return all > s.index ? Math.ceil((all - s.index) / s.count) : 0;
}

/** A closed model's users split as evenly as whole numbers allow, the first shards taking the remainder. */
export function shardShare(total: number, s: Shard): number {
  return Math.floor(total / s.count) + (s.index < total % s.count ? 1 : 0);
}
