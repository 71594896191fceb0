import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import WebSocket, { WebSocketServer } from "ws";
import { conversationIDOf, SessionType } from "../src/protocol/ids.js";
import { MsgStatus } from "../src/protocol/msg-data.js";
import { encodePushOfSent, encodeSendMsgResp, type MsgHead, readMsgHead } from "../src/protocol/pb-lite.js";
import {
  decodeRequestFrame,
  encodeResponseFrame,
  ReqIdentifier,
  type WsRequest,
  type WsResponse,
} from "../src/protocol/ws-frames.js";
import type { StackEndpoints } from "../src/stack/endpoints.js";

/**
 * A chat server that does no work but speaks OpenIM's real wire: the msg gateway's URL and
 * query (sendID, token, platformID, sdkType=js, isMsgResp, compression), its JSON envelope with
 * protobuf `data`, and the few REST routes the `openim-direct` driver calls (admin token,
 * register, user token, create group) on the same port. Any token is accepted. A SendMsg (1003)
 * is acked with serverMsgID/clientMsgID/sendTime and pushed (2001) with a per-conversation seq
 * to the recipient — or to every other member of the group — and nothing is stored.
 *
 * What it is for: measuring the generator (its CPU per message against a bare `ws` script, its
 * accuracy against injected latency) with nothing between them and the socket that does work.
 * Run it in its own process (`no-work-openim-main.ts`) so its CPU is not billed to the generator.
 */

export interface NoWorkServer {
  /** The msg gateway URL, as `openimWs` (ws://127.0.0.1:<port>). */
  wsURL: string;
  /** The REST base, as `openimApi` (http://127.0.0.1:<port>): same port. */
  apiURL: string;
  port: number;
  close(): Promise<void>;
}

/** The admin secret and user the REST routes expect (any values are accepted, these are the ones to pass). */
export const NO_WORK_ADMIN = { secret: "no-work", userID: "imAdmin" } as const;

/** Endpoints that point the `openim-direct` driver (and anything else that reads openimApi/openimWs) at the server. */
export function noWorkEndpoints(server: { wsURL: string; apiURL: string }): StackEndpoints {
  return {
    stack: "external",
    nginx: server.apiURL,
    wsURL: server.wsURL,
    openimApi: server.apiURL,
    openimWs: server.wsURL,
    redis: "redis://127.0.0.1:0",
    adminSecret: NO_WORK_ADMIN.secret,
    adminUserID: NO_WORK_ADMIN.userID,
    parts: [{ name: "no-work OpenIM", what: "bench/no-work-openim.ts: acks and pushes, stores nothing" }],
  };
}

interface Conn {
  ws: WebSocket;
  userID: string;
  gzip: boolean;
}

const TOKEN_TTL_SECONDS = 86_400;
const HANDSHAKE_OK = JSON.stringify({ errCode: 0, errMsg: "", errDlt: "" });
const TEXT_PONG = JSON.stringify({ type: "pong" });
const EMPTY = new Uint8Array(0);

export async function startNoWorkServer(opts: { port?: number } = {}): Promise<NoWorkServer> {
  /** The newest connection of each user (a second login replaces the first, as one platform would). */
  const conns = new Map<string, Conn>();
  const groups = new Map<string, string[]>();
  const seqs = new Map<string, number>();
  let nextServerMsg = 0;
  let nextGroup = 0;

  const http = createServer((req, res) => serveRest(req, res, groups, () => `nw${++nextGroup}`));
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 });

  wss.on("connection", (ws, req) => {
    const q = new URL(req.url ?? "/", "http://x").searchParams;
    const userID = q.get("sendID") ?? "";
    if (userID === "" || !q.get("token")) {
      // The gateway's own refusal for a missing argument (errs.ErrArgs, 1001).
      ws.close(1008, "sendID and token are required");
      return;
    }
    const conn: Conn = { ws, userID, gzip: q.get("compression") === "gzip" };
    conns.set(userID, conn);
    if (q.get("isMsgResp") === "true") ws.send(HANDSHAKE_OK);
    ws.on("error", () => {});
    ws.on("close", () => {
      if (conns.get(userID) === conn) conns.delete(userID);
    });
    ws.on("message", (data, isBinary) => {
      if (!isBinary) {
        if (String(data).includes('"ping"')) ws.send(TEXT_PONG);
        return;
      }
      let req: WsRequest;
      try {
        req = conn.gzip ? decodeRequestFrame(data as Buffer, { gzip: true }) : parseRequest(data as Buffer);
      } catch {
        ws.close(1007, "not a request envelope");
        return;
      }
      if (req.reqIdentifier === ReqIdentifier.SendMsg) onSend(conn, req);
      else reply(conn, req, EMPTY); // 1001 (no seqs: nothing stored), 1002, 2004, …: empty answers
      if (req.reqIdentifier === ReqIdentifier.Logout) ws.close(1000, "logout");
    });
  });

  function reply(conn: Conn, req: WsRequest, data: Uint8Array): void {
    const resp = {
      reqIdentifier: req.reqIdentifier,
      msgIncr: req.msgIncr,
      operationID: req.operationID,
      errCode: 0,
      errMsg: "",
      data,
    };
    if (!conn.gzip) {
      conn.ws.send(fastEnvelope(resp));
      return;
    }
    conn.ws.send(encodeResponseFrame(resp, { gzip: true }));
  }

  // Per message, only what an ack and a push need: the MsgData's head is read (not decoded
  // whole), the push is the sent bytes with the server's fields appended, the envelopes are
  // written as strings. At 20,000 msg/s a full decode/encode made this server the bottleneck.
  function onSend(conn: Conn, req: WsRequest): void {
    let head: MsgHead;
    try {
      head = readMsgHead(req.data);
    } catch {
      head = { sessionType: 0 } as MsgHead;
    }
    const conversationID = conversationIDOf(head);
    const members = head.sessionType === SessionType.Group ? groups.get(head.groupID) : [head.recvID];
    if (!conversationID || !members || head.sendID !== conn.userID) {
      conn.ws.send(
        encodeResponseFrame(
          {
            reqIdentifier: req.reqIdentifier,
            msgIncr: req.msgIncr,
            operationID: req.operationID,
            errCode: 1001,
            errMsg: "ArgsError: unknown recipient or group, or sendID is not the connection's",
            data: EMPTY,
          },
          { gzip: conn.gzip },
        ),
      );
      return;
    }
    const seq = (seqs.get(conversationID) ?? 0) + 1;
    seqs.set(conversationID, seq);
    const serverMsgID = `nw${++nextServerMsg}`;
    const sendTime = Date.now();
    reply(conn, req, encodeSendMsgResp(serverMsgID, head.clientMsgID, sendTime));
    // One push frame, written to every recipient: the envelope has nothing per recipient.
    const data = encodePushOfSent(req.data, conversationID, {
      serverMsgID,
      seq,
      sendTime,
      status: MsgStatus.SendSuccess,
    });
    const resp = {
      reqIdentifier: ReqIdentifier.PushMsg,
      msgIncr: "",
      operationID: req.operationID,
      errCode: 0,
      errMsg: "",
      data,
    };
    const frames: { plain?: Buffer; gzipped?: Buffer } = {};
    for (const userID of members) {
      if (userID === head.sendID) continue;
      const to = conns.get(userID);
      if (!to || to.ws.readyState !== WebSocket.OPEN) continue;
      if (to.gzip) {
        frames.gzipped ??= encodeResponseFrame(resp, { gzip: true });
        to.ws.send(frames.gzipped);
      } else {
        frames.plain ??= fastEnvelope(resp);
        to.ws.send(frames.plain);
      }
    }
  }

  await new Promise<void>((resolve) => http.listen(opts.port ?? 0, "127.0.0.1", resolve));
  const port = (http.address() as AddressInfo).port;
  return {
    wsURL: `ws://127.0.0.1:${port}`,
    apiURL: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

/** The request envelope, read with JSON.parse alone (this server trusts its clients' shape). */
function parseRequest(frame: Buffer): WsRequest {
  const j = JSON.parse(frame.toString("utf8")) as Omit<WsRequest, "data"> & { data: string | null };
  if (typeof j.reqIdentifier !== "number" || typeof j.msgIncr !== "string") throw new Error("not a request");
  return {
    reqIdentifier: j.reqIdentifier,
    token: j.token,
    sendID: j.sendID,
    operationID: String(j.operationID ?? ""),
    msgIncr: j.msgIncr,
    data: j.data ? Buffer.from(j.data, "base64") : EMPTY,
  };
}

/** encodeResponseFrame's bytes (same key order), written as a string. */
function fastEnvelope(r: WsResponse): Buffer {
  const data =
    r.data.length === 0
      ? "null"
      : `"${Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength).toString("base64")}"`;
  return Buffer.from(
    `{"reqIdentifier":${r.reqIdentifier},"msgIncr":${JSON.stringify(r.msgIncr)},"operationID":${JSON.stringify(r.operationID)},"errCode":${r.errCode},"errMsg":${JSON.stringify(r.errMsg)},"data":${data}}`,
  );
}

/** The REST routes the openim-direct driver calls; any other route answers errCode 1001 with its name. */
function serveRest(
  req: IncomingMessage,
  res: ServerResponse,
  groups: Map<string, string[]>,
  newGroupID: () => string,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on("data", (c: Buffer) => {
    size += c.length;
    if (size <= 4 * 1024 * 1024) chunks.push(c);
  });
  req.on("end", () => {
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, unknown>;
    } catch {
      // answered below as an argument error
    }
    const ok = (data?: unknown) =>
      answer(res, { errCode: 0, errMsg: "", errDlt: "", ...(data === undefined ? {} : { data }) });
    const route = (req.url ?? "").split("?")[0];
    switch (route) {
      case "/auth/get_admin_token":
        return ok({ token: "no-work-admin", expireTimeSeconds: TOKEN_TTL_SECONDS });
      case "/auth/get_user_token":
        return ok({ token: `no-work-${String(body.userID ?? "")}`, expireTimeSeconds: TOKEN_TTL_SECONDS });
      case "/user/user_register":
        return ok();
      case "/group/create_group": {
        const info = (body.groupInfo ?? {}) as { groupID?: string; groupName?: string };
        const owner = String(body.ownerUserID ?? "");
        const members = [owner, ...((body.memberUserIDs as string[] | undefined) ?? [])];
        const groupID = info.groupID || newGroupID();
        groups.set(groupID, [...new Set(members)]);
        return ok({
          groupInfo: {
            groupID,
            groupName: info.groupName ?? "",
            ownerUserID: owner,
            memberCount: groups.get(groupID)?.length ?? 0,
            status: 0,
            groupType: 2,
            createTime: Date.now(),
          },
        });
      }
      default:
        return answer(res, {
          errCode: 1001,
          errMsg: `ArgsError: the no-work server has no route ${route}`,
          errDlt: "",
        });
    }
  });
}

function answer(res: ServerResponse, envelope: unknown): void {
  const body = JSON.stringify(envelope);
  res
    .writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) })
    .end(body);
}
