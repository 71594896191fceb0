import { expect } from "vitest";
import { encodeGetMaxSeqReq } from "../../src/protocol/hand-coders.js";
import { ReqIdentifier } from "../../src/protocol/index.js";
import { sleep, type TestUser } from "./fixtures.js";
import type { RawConn, RawRequest } from "./raw-ws.js";

/**
 * What the websocket-* suites (handshake, frames, sessions) say to OpenIM's message gateway
 * over a raw connection (support/raw-ws.ts), and how they check that it said nothing back.
 */

/** 1001 for the user's own newest seqs: the smallest request the gateway answers (errCode 0). */
export const getMaxSeq = (u: TestUser): RawRequest => ({
  reqIdentifier: ReqIdentifier.GetNewestSeq,
  sendID: u.userID,
  data: encodeGetMaxSeqReq({ userID: u.userID }),
});

/** Sends with `send` and expects the server to close the socket without writing anything back. */
export async function closesWithoutReply(conn: RawConn, send: () => void) {
  const before = conn.frames.length;
  send();
  const info = await conn.closedWithin(5_000);
  expect(conn.frames.slice(before)).toEqual([]);
  return info;
}

/** A token re-minted within the same second is the identical string (observed on v3.8.3). */
export const nextSecond = () => sleep(1_100);
