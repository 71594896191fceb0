import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { gzipSync } from "node:zlib";
import { PbCoder } from "@openim/protocol";
import WebSocket, { WebSocketServer } from "ws";
import { conversationIDOf } from "../protocol/ids.js";
import {
  decodeRequestFrame,
  encodeResponseFrame,
  ReqIdentifier,
  type WsRequest,
  type WsResponse,
} from "../protocol/ws-frames.js";
import type { HostileAction, HostileCase } from "./hostile-frames.js";

/**
 * A small msg gateway on 127.0.0.1 that speaks OpenIM's framing well enough for a client to
 * connect, send and receive (1001, 1002, 1003 and pushes), and misbehaves on cue: a hostile
 * case's frame when a user connects, or a broken answer to a request. What it sent is counted
 * by kind, so a test can hold a client's protocol-error counts to the truth.
 */

interface Conn {
  ws: WebSocket;
  socket: Duplex;
  userID: string;
  gzip: boolean;
}

export interface HostileGateway {
  /** ws://127.0.0.1:<port>/msg_gateway */
  url: string;
  /** The case a user meets: its connect frame on connecting, its broken answer on its first request. */
  assign(userID: string, c: HostileCase): void;
  /** Sends a case's connect frame to every connection of a user now; false when it has none. */
  inject(userID: string, c: HostileCase): boolean;
  /** Called for each send (1003); a case returned is played on that request or the sender's connection. */
  onSend?: (sendID: string, count: number) => HostileCase | undefined;
  /** What was played, by the kind a client should count. */
  readonly played: Record<string, number>;
  close(): Promise<void>;
}

export async function startHostileGateway(): Promise<HostileGateway> {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const http = createServer((_req, res) => res.writeHead(404).end());
  const conns = new Set<Conn>();
  const assigned = new Map<string, HostileCase>();
  const seqs = new Map<string, number>();
  let sends = 0;

  const send = (conn: Conn, resp: WsResponse) => {
    if (conn.ws.readyState === WebSocket.OPEN) conn.ws.send(encodeResponseFrame(resp, { gzip: conn.gzip }));
  };
  const reply = (conn: Conn, req: WsRequest, data: Uint8Array, reqIdentifier = req.reqIdentifier) =>
    send(conn, {
      reqIdentifier,
      msgIncr: req.msgIncr,
      operationID: req.operationID,
      errCode: 0,
      errMsg: "",
      data,
    });

  function play(conn: Conn, c: HostileCase, req?: WsRequest): void {
    const a: HostileAction = c.action;
    gw.played[c.expect] = (gw.played[c.expect] ?? 0) + 1;
    if (a.on === "connect") {
      if (a.send === "raw") conn.socket.write(a.data);
      else if (conn.ws.readyState === WebSocket.OPEN) conn.ws.send(a.data, { binary: a.send === "binary" });
      return;
    }
    if (!req) return;
    if (a.answer === "reply") reply(conn, req, a.data, a.reqIdentifier);
    else if (a.answer === "raw-reply") {
      const raw = Buffer.from(a.json(req.msgIncr), "utf8");
      conn.ws.send(conn.gzip ? gzipSync(raw) : raw, { binary: true });
    } else if (a.answer === "close") conn.ws.close(1011, "hostile close");
    else conn.ws.terminate();
  }

  function answer(conn: Conn, req: WsRequest): void {
    switch (req.reqIdentifier) {
      case ReqIdentifier.SendMsg: {
        const msg = PbCoder.MsgData.decode(req.data);
        const conversationID = conversationIDOf(msg) ?? "";
        const seq = (seqs.get(conversationID) ?? 0) + 1;
        seqs.set(conversationID, seq);
        const stored = { ...msg, seq, serverMsgID: `srv-${seq}`, sendTime: Date.now() };
        const ack = {
          serverMsgID: stored.serverMsgID,
          clientMsgID: msg.clientMsgID,
          sendTime: stored.sendTime,
        };
        reply(conn, req, PbCoder.UserSendMsgResp.encode(ack).finish());
        const push = PbCoder.PushMessages.encode({
          msgs: { [conversationID]: { Msgs: [stored], isEnd: false } },
          notificationMsgs: {},
        }).finish();
        for (const c of conns)
          if (c.userID === msg.recvID)
            send(c, {
              reqIdentifier: ReqIdentifier.PushMsg,
              msgIncr: "",
              operationID: "push",
              errCode: 0,
              errMsg: "",
              data: push,
            });
        return;
      }
      case ReqIdentifier.GetNewestSeq:
        reply(conn, req, PbCoder.GetMaxSeqResp.encode({ maxSeqs: {}, minSeqs: {} }).finish());
        return;
      case ReqIdentifier.PullMsgBySeqList:
        reply(conn, req, PbCoder.PullMessageBySeqsResp.encode({ msgs: {}, notificationMsgs: {} }).finish());
        return;
      default:
        reply(conn, req, new Uint8Array(0));
    }
  }

  http.on("upgrade", (req, socket, head) => {
    const query = new URL(req.url ?? "/", "http://x").searchParams;
    wss.handleUpgrade(req, socket, head, (ws) => {
      const conn: Conn = {
        ws,
        socket,
        userID: query.get("sendID") ?? "",
        gzip: query.get("compression") === "gzip",
      };
      conns.add(conn);
      ws.on("close", () => conns.delete(conn));
      ws.on("error", () => {});
      if (query.get("isMsgResp") === "true") ws.send(JSON.stringify({ errCode: 0, errMsg: "", errDlt: "" }));
      const c = assigned.get(conn.userID);
      if (c?.action.on === "connect") play(conn, c);
      ws.on("message", (data, isBinary) => {
        if (!isBinary) {
          if (String(data) === '{"type":"ping"}') ws.send('{"type":"pong","body":null}');
          return;
        }
        let request: WsRequest;
        try {
          request = decodeRequestFrame(data as Buffer, { gzip: conn.gzip });
        } catch {
          return;
        }
        const mine = assigned.get(conn.userID);
        if (mine?.action.on === "request") {
          assigned.delete(conn.userID);
          play(conn, mine, request);
          return;
        }
        if (request.reqIdentifier === ReqIdentifier.SendMsg) {
          const hostile = gw.onSend?.(conn.userID, ++sends);
          if (hostile?.action.on === "request") return play(conn, hostile, request);
          answer(conn, request);
          if (hostile) play(conn, hostile);
          return;
        }
        answer(conn, request);
      });
    });
  });

  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const gw: HostileGateway = {
    url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/msg_gateway`,
    played: {},
    assign: (userID, c) => assigned.set(userID, c),
    inject(userID, c) {
      let any = false;
      for (const conn of conns)
        if (conn.userID === userID) {
          play(conn, c);
          any = true;
        }
      return any;
    },
    async close() {
      for (const c of conns) c.ws.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
  return gw;
}
