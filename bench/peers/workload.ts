import { PbCoder } from "@openim/protocol";
import {
  buildGatewayUrl,
  buildTextMsg,
  createRestClient,
  encodeRequestFrame,
  getAdminToken,
  getUserToken,
  ReqIdentifier,
  registerUsers,
  uniqueUserID,
} from "../../src/protocol/index.js";
import type { StackEndpoints } from "../../src/stack/endpoints.js";

/**
 * The one direct-chat workload every peer drives: `users` users in pairs (0,1), (2,3), …, each
 * sending to its pair's other half, `rate` SendMsg frames a second in all for `durationMs`.
 * Every user sends every `intervalMs`; user i starts i/rate seconds after the schedule's start,
 * so the frames of all users interleave into an even `rate`.
 */
export interface Workload {
  rate: number;
  durationMs: number;
  users: number;
  /** After the schedule: how long acks and pushes still on their way are waited for (and counted). */
  drainMs: number;
  /** Characters of text in each message (cutover's `vu.payload(n)` and the bare script's ~ the same). */
  textChars: number;
}

/** What the peers are pointed at: OpenIM's REST and its msg gateway, or the no-work server's. */
export interface Target {
  name: "no-work" | "openim";
  label: string;
  endpoints: StackEndpoints;
}

export const PLATFORM = 3; // web, as the bare script and cutover's openim-direct driver log in

export function perUser(w: Workload): { intervalMs: number; messages: number } {
  return {
    intervalMs: (w.users * 1000) / w.rate,
    messages: Math.max(1, Math.round((w.rate * w.durationMs) / 1000 / w.users)),
  };
}

/** Where user i's first send falls, from the schedule's start. */
export const startOffsetMs = (w: Workload, index: number) => (index * 1000) / w.rate;

export interface MintedUser {
  userID: string;
  token: string;
}

/** Fresh users registered through OpenIM's admin REST, each with a token for the web platform. */
export async function mintUsers(endpoints: StackEndpoints, n: number, prefix: string): Promise<MintedUser[]> {
  const rest = createRestClient({ baseUrl: endpoints.openimApi });
  try {
    const { token: admin } = await getAdminToken(rest, endpoints.adminSecret, endpoints.adminUserID);
    const ids = Array.from({ length: n }, () => uniqueUserID(prefix));
    for (let i = 0; i < ids.length; i += 1000)
      await registerUsers(
        rest,
        admin,
        ids.slice(i, i + 1000).map((userID) => ({ userID })),
      );
    const out: MintedUser[] = [];
    for (const userID of ids)
      out.push({ userID, token: (await getUserToken(rest, admin, userID, PLATFORM)).token });
    return out;
  } finally {
    await rest.close();
  }
}

/** One user of a tool that cannot build frames itself: its gateway URL and its one pre-built SendMsg frame. */
export interface FramedUser extends MintedUser {
  index: number;
  peerID: string;
  /** The gateway URL with this user's token, as the bare script and cutover dial it. */
  url: string;
  /**
   * The SendMsg envelope (JSON text, sent in a binary frame), built as the bare script builds
   * its frames. One per user, sent again and again: OpenIM does not deduplicate a repeated
   * clientMsgID (docs/openim-protocol.md §2), each send is a new message with a new seq.
   */
  frame: Buffer;
  offsetMs: number;
}

export function frameUsers(target: Target, w: Workload, users: MintedUser[]): FramedUser[] {
  return users.map((u, index) => {
    const peer = users[index ^ 1] ?? users[index];
    const peerID = (peer as MintedUser).userID;
    const msg = buildTextMsg({
      sendID: u.userID,
      recvID: peerID,
      text: `peer ${index} ${"x".repeat(Math.max(0, w.textChars - 12))}`,
      senderPlatformID: PLATFORM,
    });
    const frame = encodeRequestFrame(
      {
        reqIdentifier: ReqIdentifier.SendMsg,
        token: u.token,
        sendID: u.userID,
        operationID: `peer-${index}`,
        msgIncr: String(index + 1),
        data: PbCoder.MsgData.encode(msg).finish(),
      },
      { gzip: false },
    );
    const url = buildGatewayUrl({
      wsUrl: target.endpoints.openimWs,
      userID: u.userID,
      token: u.token,
      platformID: PLATFORM,
      operationID: `peer-${u.userID}`,
      compression: false,
      isMsgResp: false,
    });
    return { ...u, index, peerID, url, frame, offsetMs: startOffsetMs(w, index) };
  });
}
