import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { PbCoder } from "@openim/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type WebSocket from "ws";
import { WebSocketServer } from "ws";
import { decodeText } from "./content.js";
import { OpenImError, OpenImTransportError } from "./errors.js";
import { conversationIDOf, singleConversationID } from "./ids.js";
import { buildTextMsg, type MsgData } from "./msg-data.js";
import type { ReceivedMsg } from "./received.js";
import { OpenImWsClient, type OpenImWsConnectOptions } from "./ws-client.js";
import {
  decodeRequestFrame,
  encodeResponseFrame,
  ReqIdentifier,
  type WsRequest,
  type WsResponse,
} from "./ws-frames.js";

/**
 * A small stand-in for the msg gateway that speaks the documented envelope: it stores
 * sent messages with per-conversation seqs, pushes them to connected recipients, and
 * answers 1001/1002/1003/2003. Tests bend its behaviour through hooks.
 */
interface Conn {
  ws: WebSocket;
  /** The raw TCP stream, so a test can stop reading as a hung peer would. */
  socket: Duplex;
  userID: string;
  gzip: boolean;
  query: URLSearchParams;
}

interface Hooks {
  /** Return true when the hook answered (or deliberately ignored) the request. */
  onRequest?: (conn: Conn, req: WsRequest) => boolean;
  onConnect?: (conn: Conn) => void;
}

class FakeGateway {
  readonly conns = new Set<Conn>();
  readonly store = new Map<string, MsgData[]>();
  readonly requests: WsRequest[] = [];
  hooks: Hooks = {};
  /** When set, every handshake is refused with an isMsgResp token-error frame. */
  refuseAll = false;
  url = "";
  private readonly http: Server;
  private readonly wss = new WebSocketServer({ noServer: true });

  constructor() {
    this.http = createServer((_req, res) => res.writeHead(404).end());
    this.http.on("upgrade", (req, socket, head) => {
      const query = new URL(req.url ?? "/", "http://x").searchParams;
      const token = query.get("token") ?? "";
      if (token === "bad-http") {
        // server: http_error.go — HTTP 200 with an envelope, no upgrade
        socket.end(
          'HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n{"errCode":1502,"errMsg":"TokenInvalidError","errDlt":"token userID mismatch"}',
        );
        return;
      }
      if (token === "proxy-down") {
        socket.end(
          "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n<html>502 Bad Gateway</html>",
        );
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        if ((token === "bad-frame" || this.refuseAll) && query.get("isMsgResp") === "true") {
          ws.send(
            JSON.stringify({ errCode: 1505, errMsg: "TokenUnknownError", errDlt: "signature is invalid" }),
          );
          ws.close();
          return;
        }
        const conn: Conn = {
          ws,
          socket,
          userID: query.get("sendID") ?? "",
          gzip: query.get("compression") === "gzip",
          query,
        };
        this.conns.add(conn);
        ws.on("close", () => this.conns.delete(conn));
        if (query.get("isMsgResp") === "true")
          ws.send(JSON.stringify({ errCode: 0, errMsg: "", errDlt: "" }));
        ws.on("message", (data, isBinary) => {
          if (!isBinary) {
            if (String(data) === '{"type":"ping"}') ws.send('{"type":"pong","body":null}');
            return;
          }
          const req = decodeRequestFrame(data as Buffer, { gzip: conn.gzip });
          this.requests.push(req);
          if (this.hooks.onRequest?.(conn, req)) return;
          this.handle(conn, req);
        });
        this.hooks.onConnect?.(conn);
      });
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.http.listen(0, "127.0.0.1", resolve));
    this.url = `ws://127.0.0.1:${(this.http.address() as AddressInfo).port}/msg_gateway`;
  }

  async stop(): Promise<void> {
    for (const c of this.conns) c.ws.terminate();
    this.wss.close();
    this.http.closeAllConnections();
    await new Promise((resolve) => this.http.close(resolve));
  }

  reply(conn: Conn, req: WsRequest, data: Uint8Array, errCode = 0, errMsg = ""): void {
    this.send(conn, {
      reqIdentifier: req.reqIdentifier,
      msgIncr: req.msgIncr,
      operationID: req.operationID,
      errCode,
      errMsg,
      data,
    });
  }

  send(conn: Conn, resp: WsResponse): void {
    conn.ws.send(encodeResponseFrame(resp, { gzip: conn.gzip }));
  }

  push(conn: Conn, conversationID: string, msg: MsgData): void {
    const data = PbCoder.PushMessages.encode({
      msgs: { [conversationID]: { Msgs: [msg], isEnd: false } },
      notificationMsgs: {},
    }).finish();
    this.send(conn, {
      reqIdentifier: ReqIdentifier.PushMsg,
      msgIncr: "",
      operationID: "push",
      errCode: 0,
      errMsg: "",
      data,
    });
  }

  connsOf(userID: string): Conn[] {
    return [...this.conns].filter((c) => c.userID === userID);
  }

  /** Stores a message as msgtransfer would (next seq) and pushes it to online recipients. */
  deliver(msg: MsgData): MsgData {
    const conversationID = conversationIDOf(msg) ?? "";
    const list = this.store.get(conversationID) ?? [];
    const stored = {
      ...msg,
      seq: list.length + 1,
      serverMsgID: `srv${list.length + 1}`,
      sendTime: Date.now(),
    };
    list.push(stored);
    this.store.set(conversationID, list);
    for (const user of [msg.recvID]) for (const c of this.connsOf(user)) this.push(c, conversationID, stored);
    return stored;
  }

  private handle(conn: Conn, req: WsRequest): void {
    switch (req.reqIdentifier) {
      case ReqIdentifier.SendMsg: {
        const stored = this.deliver(PbCoder.MsgData.decode(req.data));
        const ack = {
          serverMsgID: stored.serverMsgID,
          clientMsgID: stored.clientMsgID,
          sendTime: stored.sendTime,
        };
        this.reply(conn, req, PbCoder.UserSendMsgResp.encode(ack).finish());
        return;
      }
      case ReqIdentifier.GetNewestSeq: {
        const maxSeqs: Record<string, number> = {};
        for (const [id, list] of this.store) if (id.includes(conn.userID)) maxSeqs[id] = list.length;
        this.reply(conn, req, PbCoder.GetMaxSeqResp.encode({ maxSeqs, minSeqs: {} }).finish());
        return;
      }
      case ReqIdentifier.PullMsgBySeqList: {
        const pull = PbCoder.PullMessageBySeqsReq.decode(req.data);
        const msgs: Record<string, { Msgs: MsgData[]; isEnd: boolean }> = {};
        for (const r of pull.seqRanges) {
          const list = this.store.get(r.conversationID) ?? [];
          const found = list.filter((m) => m.seq >= r.begin && m.seq <= r.end);
          if (found.length > 0) msgs[r.conversationID] = { Msgs: found, isEnd: r.end >= list.length };
        }
        this.reply(conn, req, PbCoder.PullMessageBySeqsResp.encode({ msgs, notificationMsgs: {} }).finish());
        return;
      }
      case ReqIdentifier.Logout:
        this.reply(conn, req, new Uint8Array(0));
        conn.ws.close();
        return;
      default:
        this.reply(conn, req, new Uint8Array(0), 500, `unsupported ${req.reqIdentifier}`);
    }
  }
}

let gw: FakeGateway;
const clients: OpenImWsClient[] = [];

beforeEach(async () => {
  gw = new FakeGateway();
  await gw.start();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await gw.stop();
});

async function connect(userID: string, extra: Partial<OpenImWsConnectOptions> = {}): Promise<OpenImWsClient> {
  const client = await OpenImWsClient.connect({
    wsUrl: gw.url,
    userID,
    token: `tok_${userID}`,
    platformID: 3,
    ...extra,
  });
  client.on("error", () => {});
  clients.push(client);
  return client;
}

function nextPush(client: OpenImWsClient): Promise<ReceivedMsg[]> {
  return new Promise((resolve) => client.once("push", (msgs) => resolve(msgs)));
}

function until(predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (predicate()) resolve();
      else if (Date.now() - start > timeoutMs) reject(new Error("condition not met in time"));
      else setTimeout(tick, 5);
    };
    tick();
  });
}

describe("OpenImWsClient handshake", () => {
  it("connects with the gateway's query parameters and waits for the isMsgResp verdict", async () => {
    await connect("alice", { operationID: "op-connect", compression: true });
    const q = gw.connsOf("alice")[0]?.query;
    expect(Object.fromEntries(q ?? [])).toEqual({
      sendID: "alice",
      token: "tok_alice",
      platformID: "3",
      operationID: "op-connect",
      sdkType: "js",
      isBackground: "false",
      isMsgResp: "true",
      compression: "gzip",
    });
  });

  it("a refused handshake (HTTP 200 + envelope) rejects with OpenImError", async () => {
    const err = await connect("alice", { token: "bad-http", isMsgResp: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenImError);
    expect(err).toMatchObject({
      errCode: 1502,
      errMsg: "TokenInvalidError",
      errDlt: "token userID mismatch",
      handshake: true,
    });
  });

  it("a refusal sent as the isMsgResp text frame rejects with OpenImError", async () => {
    await expect(connect("alice", { token: "bad-frame" })).rejects.toMatchObject({
      errCode: 1505,
      handshake: true,
    });
  });

  it("a non-OpenIM refusal names the status and keeps the token out of the message", async () => {
    const err = await connect("alice", { token: "proxy-down" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenImTransportError);
    expect(err).toMatchObject({ kind: "http-status", status: 502 });
    expect((err as Error).message).not.toContain("proxy-down");
  });

  it("an unreachable gateway is a network error", async () => {
    await expect(
      OpenImWsClient.connect({ wsUrl: "ws://127.0.0.1:1", userID: "a", token: "t", platformID: 3 }),
    ).rejects.toMatchObject({
      kind: "network",
    });
  });
});

describe.each([false, true])("OpenImWsClient messaging (compression=%s)", (compression) => {
  it("A's text reaches B as a 2001 push with seq and content; 1001 and 1002 agree", async () => {
    const a = await connect("alice", { compression });
    const b = await connect("bob", { compression });
    const pushed = nextPush(b);
    const ack = await a.sendText({ recvID: "bob", text: "hello bob" });
    expect(ack.conversationID).toBe(singleConversationID("alice", "bob"));
    expect(ack.serverMsgID).toBe("srv1");

    const [msg] = await pushed;
    expect(msg).toMatchObject({
      conversationID: "si_alice_bob",
      seq: 1,
      sendID: "alice",
      recvID: "bob",
      sessionType: 1,
      contentType: 101,
      msgFrom: 100,
      senderPlatformID: 3,
      status: 1,
      notification: false,
    });
    expect(msg && decodeText(msg)).toBe("hello bob");
    expect(msg?.clientMsgID).toBe(ack.clientMsgID);
    expect(b.lastSeenSeq("si_alice_bob")).toBe(1);

    const newest = await b.getNewestSeq();
    expect(newest.maxSeqs).toEqual({ si_alice_bob: 1 });
    const pulled = await b.pullBySeqs([{ conversationID: "si_alice_bob", begin: 1, end: 1 }]);
    expect(pulled.messages.map((m) => [m.conversationID, m.seq, decodeText(m)])).toEqual([
      ["si_alice_bob", 1, "hello bob"],
    ]);
    expect(pulled.isEnd).toEqual({ si_alice_bob: true });
  });
});

describe("OpenImWsClient requests", () => {
  it("matches replies by msgIncr even when they come back out of order", async () => {
    const held: Array<{ conn: Conn; req: WsRequest }> = [];
    gw.hooks.onRequest = (conn, req) => {
      if (req.reqIdentifier !== ReqIdentifier.GetNewestSeq) return false;
      held.push({ conn, req });
      if (held.length === 3) {
        for (const [i, h] of held.reverse().entries()) {
          gw.reply(
            h.conn,
            h.req,
            PbCoder.GetMaxSeqResp.encode({
              maxSeqs: { [`c_${h.req.msgIncr}`]: i + 1 },
              minSeqs: {},
            }).finish(),
          );
        }
      }
      return true;
    };
    const a = await connect("alice");
    const results = await Promise.all([a.getNewestSeq(), a.getNewestSeq(), a.getNewestSeq()]);
    const incrs = held.map((h) => h.req.msgIncr);
    expect(new Set(incrs).size).toBe(3);
    // each caller got the reply carrying its own msgIncr
    for (const r of results) {
      const [key] = Object.keys(r.maxSeqs);
      expect(key?.startsWith("c_")).toBe(true);
    }
    expect(results.map((r) => Object.keys(r.maxSeqs)[0])).toEqual(
      [...incrs].sort((x, y) => Number(x) - Number(y)).map((i) => `c_${i}`),
    );
  });

  it("a non-zero errCode rejects with OpenImError naming the reqIdentifier", async () => {
    gw.hooks.onRequest = (conn, req) => {
      gw.reply(conn, req, new Uint8Array(0), 1004, "RecordNotFoundError");
      return true;
    };
    const a = await connect("alice");
    const err = await a.sendText({ recvID: "nobody", text: "x" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenImError);
    expect(err).toMatchObject({ errCode: 1004, reqIdentifier: 1003 });
    expect((err as Error).message).toContain("RecordNotFoundError");
  });

  it("times out a request that gets no reply and ignores the late reply", async () => {
    let late: (() => void) | undefined;
    gw.hooks.onRequest = (conn, req) => {
      late = () => gw.reply(conn, req, new Uint8Array(0));
      return true;
    };
    const a = await connect("alice");
    await expect(a.setBackground(true, { timeoutMs: 50 })).rejects.toMatchObject({
      kind: "timeout",
      reqIdentifier: 2004,
    });
    late?.();
    await new Promise((r) => setTimeout(r, 30));
    expect(a.isOpen).toBe(true);
  });

  it("rejects pending requests when the server closes the connection", async () => {
    gw.hooks.onRequest = (conn) => {
      setTimeout(() => conn.ws.close(4000, "bye"), 20);
      return true;
    };
    const a = await connect("alice");
    const closed = new Promise((resolve) => a.once("close", resolve));
    const [r1, r2] = await Promise.allSettled([a.getNewestSeq(), a.setBackground(false)]);
    expect(r1).toMatchObject({ status: "rejected", reason: { kind: "closed" } });
    expect(r2).toMatchObject({ status: "rejected", reason: { kind: "closed" } });
    await expect(closed).resolves.toMatchObject({ code: 4000, reason: "bye", wasKicked: false });
    await expect(a.getNewestSeq()).rejects.toMatchObject({ kind: "closed" });
  });

  it("close() rejects pending requests and resolves once closed", async () => {
    gw.hooks.onRequest = () => true;
    const a = await connect("alice");
    const pending = a.getNewestSeq();
    await a.close();
    await expect(pending).rejects.toMatchObject({ kind: "closed" });
    expect(a.isOpen).toBe(false);
    await a.close(); // idempotent
  });
});

describe("OpenImWsClient server-initiated frames", () => {
  it("2002 emits 'kicked', then 'close' with wasKicked, and does not reconnect", async () => {
    const a = await connect("alice", { reconnect: { initialDelayMs: 10 } });
    const kicked = new Promise<void>((resolve) => a.once("kicked", resolve));
    const closed = new Promise((resolve) => a.once("close", resolve));
    let reconnecting = false;
    a.on("reconnecting", () => {
      reconnecting = true;
    });
    const conn = gw.connsOf("alice")[0];
    if (!conn) throw new Error("no server-side connection");
    gw.send(conn, {
      reqIdentifier: ReqIdentifier.KickOnlineMsg,
      msgIncr: "",
      operationID: "k",
      errCode: 0,
      errMsg: "",
      data: new Uint8Array(0),
    });
    conn.ws.close();
    await kicked;
    await expect(closed).resolves.toMatchObject({ wasKicked: true });
    expect(reconnecting).toBe(false);
  });

  it("2005 pushes become 'online-status'", async () => {
    const a = await connect("alice");
    const status = new Promise((resolve) => a.once("online-status", resolve));
    const conn = gw.connsOf("alice")[0];
    if (!conn) throw new Error("no server-side connection");
    const data = PbCoder.SubUserOnlineStatusTips.encode({
      subscribers: [{ userID: "bob", onlinePlatformIDs: [3, 5] }],
    }).finish();
    gw.send(conn, {
      reqIdentifier: ReqIdentifier.SubUserOnlineStatus,
      msgIncr: "",
      operationID: "s",
      errCode: 0,
      errMsg: "",
      data,
    });
    await expect(status).resolves.toEqual([{ userID: "bob", onlinePlatformIDs: [3, 5] }]);
  });

  it("holds pushes that arrive before any 'push' listener and delivers them once one is attached", async () => {
    gw.hooks.onConnect = (conn) => {
      const early = gw.deliver(
        buildTextMsg({ sendID: "alice", recvID: "bob", senderPlatformID: 3, text: "early" }),
      );
      gw.push(conn, "si_alice_bob", early);
    };
    const b = await connect("bob");
    await new Promise((r) => setTimeout(r, 30)); // the push has long arrived
    const got = await nextPush(b);
    expect(got.map((m) => [m.seq, decodeText(m)])).toEqual([[1, "early"]]);
  });

  it("a malformed frame from the server is reported, not thrown", async () => {
    const a = await connect("alice");
    const errors: Error[] = [];
    a.on("error", (e) => errors.push(e));
    gw.connsOf("alice")[0]?.ws.send(Buffer.from("definitely not json"));
    await until(() => errors.length > 0);
    expect(errors[0]).toMatchObject({ kind: "bad-frame" });
    expect(a.isOpen).toBe(true);
  });

  it("logout (2003) resolves once the gateway closed the connection", async () => {
    const a = await connect("alice", { reconnect: { initialDelayMs: 10 } });
    const closed = new Promise((resolve) => a.once("close", resolve));
    await a.logout();
    await expect(closed).resolves.toMatchObject({ wasKicked: false });
    expect(gw.requests.at(-1)?.reqIdentifier).toBe(2003);
    expect(PbCoder.GetActiveConversationsReq.decode(gw.requests.at(-1)?.data ?? new Uint8Array())).toEqual({
      ownerUserID: "alice",
      count: 3,
    });
  });
});

describe("OpenImWsClient heartbeat", () => {
  it("sends text pings and control pings at the interval", async () => {
    const textPings: string[] = [];
    let controlPings = 0;
    gw.hooks.onConnect = (conn) => {
      conn.ws.on("message", (d, isBinary) => {
        if (!isBinary) textPings.push(String(d));
      });
      conn.ws.on("ping", () => {
        controlPings++;
      });
    };
    await connect("alice", { heartbeat: { intervalMs: 30 } });
    await until(() => textPings.length >= 2 && controlPings >= 2);
    expect(textPings[0]).toBe('{"type":"ping"}');
  });

  it("reports each ping's round trip once, at its first answer", async () => {
    // The fake gateway answers the text ping with a text pong and the control ping with a pong (ws does it).
    let pings = 0;
    gw.hooks.onConnect = (conn) => {
      conn.ws.on("message", (d, isBinary) => {
        if (!isBinary && String(d) === '{"type":"ping"}') {
          pings++;
          setTimeout(() => conn.ws.send('{"type":"pong","body":null}'), 15);
        }
      });
    };
    const a = await connect("alice", { heartbeat: { intervalMs: 60 } });
    const rtts: number[] = [];
    a.on("heartbeat", ({ rttMs }) => rtts.push(rttMs));
    await until(() => rtts.length >= 3);
    // One sample per ping, although each ping got two answers (a control pong and a text pong).
    expect(rtts.length).toBeLessThanOrEqual(pings);
    expect(rtts.length).toBeGreaterThanOrEqual(pings - 1);
    for (const rtt of rtts) {
      expect(rtt).toBeGreaterThanOrEqual(0);
      expect(rtt).toBeLessThan(60);
    }
  });

  it("drops a connection that stopped answering and reports the close", async () => {
    const a = await connect("alice", { heartbeat: { intervalMs: 30 } });
    const closed = new Promise((resolve) => a.once("close", resolve));
    // Stop reading on the server side: no pongs, no text replies.
    gw.connsOf("alice")[0]?.socket.pause();
    await expect(closed).resolves.toMatchObject({ code: 1006, wasKicked: false });
  });
});

describe("OpenImWsClient reconnect and catch-up", () => {
  it("reconnects, pulls what it missed, and emits every message exactly once", async () => {
    const a = await connect("alice");
    const b = await connect("bob", { reconnect: { initialDelayMs: 20, maxDelayMs: 50 } });
    const received: Array<[number, string | undefined, string]> = [];
    b.on("push", (msgs, source) => {
      for (const m of msgs) received.push([m.seq, decodeText(m), source]);
    });
    await a.sendText({ recvID: "bob", text: "one" });
    await until(() => received.length === 1);

    // The gateway drops B, then two messages arrive while B is away.
    const reconnected = new Promise((resolve) => b.once("reconnected", resolve));
    let firstReconnect = true;
    gw.hooks.onConnect = (conn) => {
      if (conn.userID !== "bob" || !firstReconnect) return;
      firstReconnect = false;
      // A push that was in flight races the catch-up: seq 3 must still be emitted once.
      const three = gw.store.get("si_alice_bob")?.[2];
      if (three) gw.push(conn, "si_alice_bob", three);
    };
    gw.connsOf("bob")[0]?.ws.terminate();
    await until(() => gw.connsOf("bob").length === 0);
    await a.sendText({ recvID: "bob", text: "two" });
    await a.sendText({ recvID: "bob", text: "three" });

    await expect(reconnected).resolves.toMatchObject({ attempts: 1 });
    await until(() => received.length >= 3);
    await new Promise((r) => setTimeout(r, 50));
    expect(received.map(([seq, text]) => [seq, text]).sort()).toEqual([
      [1, "one"],
      [2, "two"],
      [3, "three"],
    ]);
    expect(received.filter(([, , source]) => source === "catch-up").map(([seq]) => seq)).toContain(2);
    const pulls = gw.requests.filter((r) => r.reqIdentifier === ReqIdentifier.PullMsgBySeqList);
    const ranges = pulls.flatMap((r) => PbCoder.PullMessageBySeqsReq.decode(r.data).seqRanges);
    expect(ranges).toEqual([{ conversationID: "si_alice_bob", begin: 2, end: 3, num: 2 }]);
    expect(b.lastSeenSeq("si_alice_bob")).toBe(3);
  });

  it("gives up after the bounded attempts and closes", async () => {
    const b = await connect("bob", { reconnect: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 20 } });
    const attempts: number[] = [];
    b.on("reconnecting", (i) => attempts.push(i.attempt));
    const closed = new Promise((resolve) => b.once("close", resolve));
    await gw.stop();
    const info = await closed;
    expect(attempts).toEqual([1, 2]);
    expect(info).toMatchObject({ wasKicked: false, reconnectError: { kind: "network" } });
    await gw.start(); // for afterEach
  });

  it("stops retrying when the token is refused", async () => {
    const b = await connect("bob", { reconnect: { maxAttempts: 5, initialDelayMs: 10 } });
    const attempts: number[] = [];
    b.on("reconnecting", (i) => attempts.push(i.attempt));
    const closed = new Promise((resolve) => b.once("close", resolve));
    gw.refuseAll = true; // as if the token had been kicked meanwhile
    gw.connsOf("bob")[0]?.ws.terminate();
    const info = await closed;
    expect(attempts).toEqual([1]);
    expect(info).toMatchObject({ reconnectError: { errCode: 1505 } });
  });
});
