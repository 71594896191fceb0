import type { NewestSeqs, OpenImWsClient, PullResult, SeqRangeRequest } from "../../src/protocol/index.js";
import { eventually } from "./fixtures.js";

/**
 * Reads of a conversation right after its first messages, made to wait for what OpenIM
 * settles asynchronously: seqs are assigned in msgtransfer 60–580 ms after the ack, and the
 * msg RPC caches a "no such conversation" answer locally (rpccache ConversationLocalCache,
 * failed TTL) until the creation's invalidation reaches it — so a receiver's 1001/1002 can
 * miss a brand-new conversation for a moment after the push (observed, rarely).
 */

/** 1002, repeated (bounded) until it returns at least `count` messages; the last answer either way. */
export async function pullSettled(
  client: OpenImWsClient,
  ranges: SeqRangeRequest[],
  count: number,
  timeoutMs = 5_000,
): Promise<PullResult> {
  let last: PullResult = { messages: [], isEnd: {} };
  await eventually(
    async () => {
      last = await client.pullBySeqs(ranges);
      return last.messages.length >= count;
    },
    timeoutMs,
    50,
  );
  return last;
}

/** 1001, repeated (bounded) until `conversationID` reaches `seq`; the last answer either way. */
export async function newestSettled(
  client: OpenImWsClient,
  conversationID: string,
  seq: number,
  timeoutMs = 5_000,
): Promise<NewestSeqs> {
  let last: NewestSeqs = { maxSeqs: {}, minSeqs: {} };
  await eventually(
    async () => {
      last = await client.getNewestSeq();
      return (last.maxSeqs[conversationID] ?? 0) >= seq;
    },
    timeoutMs,
    50,
  );
  return last;
}
