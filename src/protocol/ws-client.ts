import { EventEmitter } from "node:events";
import { type MsgProto, PbCoder, type SdkWsProto } from "@openim/protocol";
import WebSocket from "ws";
import { isTokenErrorCode, OpenImError, OpenImTransportError, type ProtocolErrorKind } from "./errors.js";
import {
  encodeDelUserPushTokenReq,
  encodeGetMaxSeqReq,
  encodeSetAppBackgroundStatusReq,
} from "./hand-coders.js";
import { groupConversationID, newClientMsgID, newOperationID, singleConversationID } from "./ids.js";
import { encodeTextMsg, type MsgData } from "./msg-data.js";
import { type PushedMsg, readPushMessages, readSendMsgResp } from "./pb-lite.js";
import { endFlags, flattenConversationMaps, type ReceivedMsg } from "./received.js";
import { chunkRanges, SeqTracker } from "./seq-tracker.js";
import { dialGateway, rawToBuffer } from "./ws-dial.js";
import {
  decodeResponseFrame,
  encodeRequestFrame,
  encodeRequestFrameAfter,
  FrameDecodeError,
  MAX_INFLATED_FRAME_BYTES,
  ReqIdentifier,
  requestFrameHead,
  TEXT_PING,
  textFrameType,
  type WsResponse,
} from "./ws-frames.js";

export interface HeartbeatOptions {
  /** Default 25 s: under the gateway's 30 s read deadline (server: msggateway/constant.go pongWait). */
  intervalMs?: number;
  /** `text` sends {"type":"ping"}, `control` a WS ping frame. Default both: either answer proves liveness. */
  mode?: "text" | "control" | "both";
}

export interface ReconnectOptions {
  maxAttempts?: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  /**
   * Pull what was missed while disconnected (1001 then 1002). Default true. Costs one
   * extra 1001 at connect time: the baseline that separates old history from misses.
   */
  catchUp?: boolean;
  /** Upper bound on seqs pulled per conversation in one catch-up. */
  maxCatchUpPerConversation?: number;
}

export interface OpenImWsConnectOptions {
  wsUrl: string;
  userID: string;
  token: string;
  platformID: number;
  compression?: boolean;
  /** Ask the gateway for its verdict as a text frame (default true), so connect() resolves only once auth passed. */
  isMsgResp?: boolean;
  operationID?: string;
  handshakeTimeoutMs?: number;
  requestTimeoutMs?: number;
  heartbeat?: HeartbeatOptions | false;
  reconnect?: ReconnectOptions | false;
  /** Larger frames close the socket with 1009 (default 16 MiB: a hostile server cannot fill memory). */
  maxFrameBytes?: number;
}

export interface RequestOptions {
  timeoutMs?: number;
  operationID?: string;
  /** Override the envelope's sendID (conformance cases; the gateway closes on a mismatch). */
  sendID?: string;
}

export interface SendMsgResult {
  serverMsgID: string;
  clientMsgID: string;
  sendTime: number;
}

export interface SendTextParams {
  recvID?: string;
  groupID?: string;
  text: string;
  clientMsgID?: string;
  ex?: string;
  senderNickname?: string;
  createTime?: number;
}

export interface SendTextResult extends SendMsgResult {
  conversationID: string;
  createTime: number;
}

export interface SeqRangeRequest {
  conversationID: string;
  begin: number;
  end: number;
  /** Defaults to end - begin + 1. The server returns the last `num` seqs of the range. */
  num?: number;
}

export interface PullResult {
  messages: ReceivedMsg[];
  isEnd: Record<string, boolean>;
}

export interface NewestSeqs {
  maxSeqs: Record<string, number>;
  minSeqs: Record<string, number>;
}

export interface CloseInfo {
  code: number;
  reason: string;
  wasKicked: boolean;
  /** Set when reconnecting was enabled and gave up. */
  reconnectError?: Error;
}

export type PushSource = "push" | "catch-up";

export interface OpenImWsEvents {
  push: [messages: ReceivedMsg[], source: PushSource];
  /**
   * Pushes (2001) read light — head fields and text, no full MsgData — instead of 'push', when
   * this has a listener. Catch-up pulls and pushes held before any listener still come as 'push'.
   */
  pushed: [messages: PushedMsg[]];
  /** The first answer (text or control pong) to a heartbeat ping, with its round trip. */
  heartbeat: [info: { rttMs: number }];
  kicked: [];
  "online-status": [users: SdkWsProto.SubUserOnlineStatusElem[]];
  reconnecting: [info: { attempt: number; delayMs: number; code: number; reason: string }];
  reconnected: [info: { attempts: number; caughtUp: number }];
  close: [info: CloseInfo];
  error: [err: Error];
  /** Node's own, emitted before a listener is added; declared so the client can use it. */
  newListener: [event: string | symbol, listener: (...args: never[]) => void];
}

interface Pending {
  reqIdentifier: number;
  operationID: string;
  resolve: (resp: WsResponse) => void;
  reject: (err: Error) => void;
  /** performance.now() past which the request fails with a timeout. */
  deadline: number;
  timeoutMs: number;
}

type State = "open" | "reconnecting" | "closed";

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const DEFAULT_HEARTBEAT_MS = 25_000;
const CLOSE_GRACE_MS = 3_000;
const MAX_HELD_PUSHES = 10_000;
const MAX_HELD_ERRORS = 1_000;
const KNOWN_REQ_IDENTIFIERS = new Set<number>(Object.values(ReqIdentifier));

/** ws's own codes for frames that break RFC 6455 (ws: lib/receiver.js). */
function wsFramingFault(err: Error): ProtocolErrorKind | undefined {
  const code = (err as { code?: unknown }).code;
  if (code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") return "oversized-frame";
  return typeof code === "string" && code.startsWith("WS_ERR_") ? "bad-ws-frame" : undefined;
}

/**
 * One user's connection to the OpenIM msg gateway, JSON-encoded (sdkType=js). Owns the
 * socket, the requests in flight (matched by msgIncr), the heartbeat, optional
 * reconnection, and the per-conversation seqs it has delivered.
 */
export class OpenImWsClient extends EventEmitter<OpenImWsEvents> {
  readonly userID: string;
  readonly platformID: number;
  /** Resolves once the client is finally closed (never rejects). */
  readonly closed: Promise<void>;

  private readonly opts: OpenImWsConnectOptions;
  private readonly gzip: boolean;
  private readonly seqs = new SeqTracker();
  private readonly pending = new Map<string, Pending>();
  /**
   * One timer per client for the earliest request deadline, not one per request: under load a
   * Timeout object per message is allocation and timer-list work for a timer that almost never fires.
   */
  private deadlineTimer: NodeJS.Timeout | undefined;
  private deadlineAt = Number.POSITIVE_INFINITY;
  private ws: WebSocket | undefined;
  private state: State = "open";
  private msgIncr = 0;
  private closeRequested = false;
  private wasKicked = false;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private lastPingAt = 0;
  /** performance.now() of the heartbeat ping still waiting for its first pong; undefined once answered. */
  private pingSentAt: number | undefined;
  private lastFrameAt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private wakeRetry: (() => void) | undefined;
  private dialAbort: AbortController | undefined;
  private resolveClosed: () => void = () => {};
  private heldPushes: Array<[ReceivedMsg[], PushSource]> = [];
  /** Errors reported before any 'error' listener: a hostile server can send a bad frame right after the upgrade. */
  private heldErrors: Error[] = [];

  private constructor(opts: OpenImWsConnectOptions) {
    super();
    this.opts = opts;
    this.userID = opts.userID;
    this.platformID = opts.platformID;
    this.gzip = opts.compression ?? false;
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    // Pushes can arrive before connect() has even returned to the caller; they are held
    // until the first 'push' listener exists, so a message is never delivered to nobody.
    this.on("newListener", (event) => {
      if (event === "push" && this.heldPushes.length > 0) queueMicrotask(() => this.releaseHeldPushes());
      if (event === "error" && this.heldErrors.length > 0)
        queueMicrotask(() => {
          for (const err of this.heldErrors.splice(0)) this.report(err);
        });
    });
  }

  /** Resolves once the gateway accepted the user; rejects with OpenImError when it refused. */
  static async connect(opts: OpenImWsConnectOptions): Promise<OpenImWsClient> {
    const client = new OpenImWsClient(opts);
    await client.dial(opts.operationID);
    client.startHeartbeat();
    const reconnect = client.reconnectOptions();
    if (reconnect && reconnect.catchUp !== false) await client.takeBaseline();
    return client;
  }

  get isOpen(): boolean {
    return this.state === "open" && this.ws?.readyState === WebSocket.OPEN;
  }

  /** The highest seq delivered (pushed or caught up) in a conversation during this session. */
  lastSeenSeq(conversationID: string): number | undefined {
    return this.seqs.lastSeq(conversationID);
  }

  /** Sends one request envelope and waits for the reply with the same msgIncr. */
  request(reqIdentifier: number, data: Uint8Array, opts: RequestOptions = {}): Promise<WsResponse> {
    const operationID = opts.operationID ?? newOperationID();
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || this.state !== "open") {
      return Promise.reject(
        new OpenImTransportError({
          kind: "closed",
          reqIdentifier,
          operationID,
          message: `not connected (${this.state})`,
        }),
      );
    }
    this.msgIncr += 1;
    const msgIncr = String(this.msgIncr);
    const sendID = opts.sendID ?? this.userID;
    // The envelope's constant head (reqIdentifier, token, sendID) is written once per kind of request.
    const frame =
      this.gzip || sendID !== this.userID
        ? encodeRequestFrame(
            { reqIdentifier, token: this.opts.token, sendID, operationID, msgIncr, data },
            { gzip: this.gzip },
          )
        : encodeRequestFrameAfter(this.envelopeHead(reqIdentifier), operationID, msgIncr, data);
    const timeoutMs = opts.timeoutMs ?? this.opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    return new Promise<WsResponse>((resolve, reject) => {
      const deadline = performance.now() + timeoutMs;
      this.pending.set(msgIncr, { reqIdentifier, operationID, resolve, reject, deadline, timeoutMs });
      this.armDeadline(deadline);
      // One write callback per client, not a closure per message: a failed write means a dead
      // socket, and every request in flight on it fails the same way.
      ws.send(frame, { binary: true }, this.onWriteDone);
    });
  }

  private readonly onWriteDone = (err?: Error | null): void => {
    if (!err) return;
    for (const [msgIncr, p] of this.pending)
      this.settle(
        msgIncr,
        new OpenImTransportError({
          kind: "network",
          reqIdentifier: p.reqIdentifier,
          operationID: p.operationID,
          message: err.message,
          cause: err,
        }),
      );
  };

  async sendMessage(msg: MsgData, opts?: RequestOptions): Promise<SendMsgResult> {
    const resp = await this.request(ReqIdentifier.SendMsg, PbCoder.MsgData.encode(msg).finish(), opts);
    // msg.SendMsgResp is wire-identical to sdkws.UserSendMsgResp.
    const ack = this.decode(resp, (b) => PbCoder.UserSendMsgResp.decode(b));
    return { serverMsgID: ack.serverMsgID, clientMsgID: ack.clientMsgID, sendTime: ack.sendTime };
  }

  async sendText(p: SendTextParams, opts?: RequestOptions): Promise<SendTextResult> {
    // The MsgData's bytes written directly (the same bytes as encoding buildTextMsg's object),
    // and the ack read with pb-lite: the per-message path of every load run.
    const createTime = p.createTime ?? Date.now();
    // Fields spelled out, no spreads: an object spread per message costs more than the encoding.
    const data = encodeTextMsg({
      sendID: this.userID,
      senderPlatformID: this.platformID,
      recvID: p.recvID,
      groupID: p.groupID,
      text: p.text,
      clientMsgID: p.clientMsgID ?? newClientMsgID(),
      createTime,
      senderNickname: p.senderNickname,
      ex: p.ex,
    });
    const resp = await this.request(ReqIdentifier.SendMsg, data, opts);
    const ack = this.decode(resp, readSendMsgResp);
    const conversationID = p.groupID
      ? groupConversationID(p.groupID)
      : singleConversationID(this.userID, p.recvID ?? "");
    return {
      serverMsgID: ack.serverMsgID,
      clientMsgID: ack.clientMsgID,
      sendTime: ack.sendTime,
      conversationID,
      createTime,
    };
  }

  async getNewestSeq(opts?: RequestOptions): Promise<NewestSeqs> {
    const resp = await this.request(
      ReqIdentifier.GetNewestSeq,
      encodeGetMaxSeqReq({ userID: this.userID }),
      opts,
    );
    const decoded = this.decode(resp, (b) => PbCoder.GetMaxSeqResp.decode(b));
    return { maxSeqs: decoded.maxSeqs, minSeqs: decoded.minSeqs };
  }

  async pullBySeqs(
    ranges: SeqRangeRequest[],
    order: "asc" | "desc" = "asc",
    opts?: RequestOptions,
  ): Promise<PullResult> {
    const req: SdkWsProto.PullMessageBySeqsReq = {
      userID: this.userID,
      seqRanges: ranges.map((r) => ({
        conversationID: r.conversationID,
        begin: r.begin,
        end: r.end,
        num: r.num ?? r.end - r.begin + 1,
      })),
      order: order === "asc" ? 0 : 1,
    };
    const resp = await this.request(
      ReqIdentifier.PullMsgBySeqList,
      PbCoder.PullMessageBySeqsReq.encode(req).finish(),
      opts,
    );
    const decoded = this.decode(resp, (b) => PbCoder.PullMessageBySeqsResp.decode(b));
    return {
      messages: flattenConversationMaps(decoded.msgs, decoded.notificationMsgs),
      isEnd: endFlags(decoded.msgs, decoded.notificationMsgs),
    };
  }

  async getConversationsMaxReadSeq(
    conversationIDs: string[],
    opts?: RequestOptions,
  ): Promise<Record<string, MsgProto.Seqs>> {
    const data = PbCoder.GetConversationsHasReadAndMaxSeqReq.encode({
      userID: this.userID,
      conversationIDs,
    }).finish();
    const resp = await this.request(ReqIdentifier.GetConvMaxReadSeq, data, opts);
    return this.decode(resp, (b) => PbCoder.GetConversationsHasReadAndMaxSeqResp.decode(b)).seqs;
  }

  async subscribeOnlineStatus(
    subscribeUserIDs: string[],
    unsubscribeUserIDs: string[] = [],
    opts?: RequestOptions,
  ): Promise<SdkWsProto.SubUserOnlineStatusElem[]> {
    const data = PbCoder.SubUserOnlineStatus.encode({
      subscribeUserID: subscribeUserIDs,
      unsubscribeUserID: unsubscribeUserIDs,
    }).finish();
    const resp = await this.request(ReqIdentifier.SubUserOnlineStatus, data, opts);
    return this.decode(resp, (b) => PbCoder.SubUserOnlineStatusTips.decode(b)).subscribers;
  }

  async setBackground(isBackground: boolean, opts?: RequestOptions): Promise<void> {
    await this.request(
      ReqIdentifier.SetBackgroundStatus,
      encodeSetAppBackgroundStatusReq({ userID: this.userID, isBackground }),
      opts,
    );
  }

  /** 2003: the gateway answers, then closes the connection; resolves once it is closed. */
  async logout(opts?: RequestOptions): Promise<void> {
    this.closeRequested = true;
    this.cancelRetry();
    try {
      await this.request(
        ReqIdentifier.Logout,
        encodeDelUserPushTokenReq({ userID: this.userID, platformID: this.platformID }),
        opts,
      );
    } catch (err) {
      // The close may overtake the reply; that is still a completed logout.
      if (!(err instanceof OpenImTransportError && err.kind === "closed")) {
        await this.close();
        throw err;
      }
    }
    await this.close();
  }

  /** Writes raw bytes to the socket (conformance cases: malformed frames). */
  sendRawFrame(data: Uint8Array | string, binary = typeof data !== "string"): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      throw new OpenImTransportError({
        kind: "closed",
        message: `cannot send a raw frame: not connected (${this.state})`,
      });
    }
    ws.send(data, { binary });
  }

  /** Closes for good (no reconnect). Resolves when the socket is closed; never rejects. */
  close(): Promise<void> {
    this.closeRequested = true;
    this.cancelRetry();
    this.stopHeartbeat();
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) {
      this.finish({ code: 1000, reason: "closed by client", wasKicked: this.wasKicked });
      return this.closed;
    }
    const killer = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
    void this.closed.then(() => clearTimeout(killer));
    if (ws.readyState === WebSocket.OPEN) ws.close(1000, "client close");
    else if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    return this.closed;
  }

  // ---- connection lifecycle ----

  private async dial(operationID?: string): Promise<void> {
    const abort = new AbortController();
    this.dialAbort = abort;
    try {
      await dialGateway({
        wsUrl: this.opts.wsUrl,
        userID: this.userID,
        token: this.opts.token,
        platformID: this.platformID,
        operationID: operationID ?? newOperationID(),
        compression: this.gzip,
        isMsgResp: this.opts.isMsgResp ?? true,
        handshakeTimeoutMs: this.opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
        maxPayload: this.opts.maxFrameBytes ?? MAX_INFLATED_FRAME_BYTES,
        signal: abort.signal,
        attach: (ws) => this.adopt(ws),
      });
    } finally {
      if (this.dialAbort === abort) this.dialAbort = undefined;
    }
  }

  private adopt(ws: WebSocket): void {
    if (this.state === "closed") {
      // close() won the race against a reconnect dial.
      ws.on("error", () => {});
      ws.terminate();
      return;
    }
    this.ws = ws;
    this.state = "open";
    this.lastFrameAt = Date.now();
    this.lastPingAt = 0;
    ws.on("message", (data, isBinary) => {
      this.lastFrameAt = Date.now();
      this.onFrame(data, isBinary);
    });
    ws.on("pong", () => {
      this.lastFrameAt = Date.now();
      this.heartbeatAnswered();
    });
    ws.on("error", (err) => {
      const protocolError = wsFramingFault(err);
      this.report(
        new OpenImTransportError({
          kind: protocolError ? "bad-frame" : "network",
          message: err.message,
          cause: err,
          ...(protocolError ? { protocolError } : {}),
        }),
      );
    });
    ws.on("close", (code, reason) => this.onSocketClose(ws, code, reason.toString("utf8")));
  }

  private onSocketClose(ws: WebSocket, code: number, reason: string): void {
    if (this.ws !== ws) return;
    this.ws = undefined;
    this.stopHeartbeat();
    // Requests in flight when the server closes are a broken exchange; after our own close() they are not.
    this.rejectPending(
      `connection closed (code ${code}${reason ? `, ${reason}` : ""})`,
      this.closeRequested ? undefined : "closed-mid-request",
    );
    const reconnect = this.reconnectOptions();
    if (this.closeRequested || this.wasKicked || !reconnect) {
      this.finish({ code, reason, wasKicked: this.wasKicked });
      return;
    }
    this.state = "reconnecting";
    this.reconnectLoop(reconnect, code, reason).catch((err: unknown) => {
      this.report(err instanceof Error ? err : new Error(String(err)));
      this.finish({ code, reason, wasKicked: false, reconnectError: err instanceof Error ? err : undefined });
    });
  }

  private async reconnectLoop(r: ReconnectOptions, code: number, reason: string): Promise<void> {
    const maxAttempts = r.maxAttempts ?? 5;
    const initial = r.initialDelayMs ?? 200;
    const maxDelay = r.maxDelayMs ?? 5_000;
    let lastError: Error | undefined;
    for (let attempt = 1; attempt <= maxAttempts && !this.closeRequested; attempt++) {
      const base = Math.min(maxDelay, initial * 2 ** (attempt - 1));
      const delayMs = Math.round(base / 2 + Math.random() * (base / 2));
      this.emit("reconnecting", { attempt, delayMs, code, reason });
      await this.sleepUnlessClosed(delayMs);
      if (this.closeRequested) break;
      try {
        await this.dial();
      } catch (err) {
        lastError = err instanceof Error ? err : new Error(String(err));
        if (err instanceof OpenImError && isTokenErrorCode(err.errCode)) break; // the token will not get better
        continue;
      }
      if (this.closeRequested) {
        await this.close();
        return;
      }
      this.startHeartbeat();
      let caughtUp = 0;
      if (r.catchUp !== false) {
        try {
          caughtUp = await this.catchUp(r.maxCatchUpPerConversation);
        } catch (err) {
          this.report(err instanceof Error ? err : new Error(String(err)));
        }
      }
      // The new socket may already have dropped during catch-up; its own loop reports that.
      if (this.state === "open") this.emit("reconnected", { attempts: attempt, caughtUp });
      return;
    }
    this.finish({ code, reason, wasKicked: false, ...(lastError ? { reconnectError: lastError } : {}) });
  }

  /** Pulls every seq the server has that this session did not deliver; returns how many were emitted. */
  private async catchUp(maxPerConversation?: number): Promise<number> {
    const newest = await this.getNewestSeq();
    let emitted = 0;
    for (const batch of chunkRanges(this.seqs.catchUpRanges(newest.maxSeqs, maxPerConversation))) {
      const pulled = await this.pullBySeqs(batch, "asc");
      const fresh = pulled.messages.filter((m) => this.seqs.markSeen(m.conversationID, m.seq));
      if (fresh.length > 0) {
        emitted += fresh.length;
        this.emitPush(fresh, "catch-up");
      }
    }
    return emitted;
  }

  private async takeBaseline(): Promise<void> {
    try {
      this.seqs.setBaseline((await this.getNewestSeq()).maxSeqs);
    } catch (err) {
      // Without a baseline catch-up still works for conversations seen in this session.
      this.report(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private sleepUnlessClosed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wakeRetry = resolve;
      this.retryTimer = setTimeout(resolve, ms);
    });
  }

  private cancelRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.wakeRetry?.();
    this.wakeRetry = undefined;
    this.dialAbort?.abort();
  }

  private finish(info: CloseInfo): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.stopHeartbeat();
    this.cancelRetry();
    this.rejectPending("client closed");
    this.emit("close", info);
    this.resolveClosed();
  }

  private reconnectOptions(): ReconnectOptions | undefined {
    const r = this.opts.reconnect;
    return r === undefined || r === false ? undefined : r;
  }

  // ---- heartbeat ----

  private startHeartbeat(): void {
    const hb = this.opts.heartbeat;
    if (hb === false) return;
    this.stopHeartbeat();
    const interval = hb?.intervalMs ?? DEFAULT_HEARTBEAT_MS;
    const mode = hb?.mode ?? "both";
    this.heartbeatTimer = setInterval(() => this.beat(mode), interval);
    this.heartbeatTimer.unref();
  }

  private beat(mode: "text" | "control" | "both"): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    if (this.lastPingAt > 0 && this.lastFrameAt < this.lastPingAt) {
      // Nothing at all came back for a whole interval: the connection is dead, not idle.
      ws.terminate();
      return;
    }
    this.lastPingAt = Date.now();
    this.pingSentAt = performance.now();
    if (mode !== "control") ws.send(TEXT_PING);
    if (mode !== "text") ws.ping();
  }

  private heartbeatAnswered(): void {
    if (this.pingSentAt === undefined) return;
    const rttMs = performance.now() - this.pingSentAt;
    this.pingSentAt = undefined;
    this.emit("heartbeat", { rttMs });
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  // ---- incoming frames ----

  private onFrame(data: WebSocket.RawData, isBinary: boolean): void {
    if (!isBinary) {
      // Text frames are pongs ({"type":"pong"}); anything else has no meaning to a client.
      const type = textFrameType(rawToBuffer(data).toString("utf8"));
      if (type === "pong") this.heartbeatAnswered();
      if (type !== "pong")
        this.report(
          new OpenImTransportError({
            kind: "bad-frame",
            protocolError: "unexpected-text",
            message: `unexpected text frame (type ${type?.slice(0, 40) ?? "?"})`,
          }),
        );
      return;
    }
    let resp: WsResponse;
    try {
      resp = decodeResponseFrame(rawToBuffer(data), { gzip: this.gzip });
    } catch (err) {
      if (!(err instanceof FrameDecodeError)) throw err;
      const failure = new OpenImTransportError({
        kind: "bad-frame",
        protocolError: err.fault,
        message: err.message,
        cause: err,
      });
      // A broken reply that still names its request fails that request now, not at its timeout.
      if (err.msgIncr !== undefined && this.pending.has(err.msgIncr)) this.settle(err.msgIncr, failure);
      else this.report(failure);
      return;
    }
    try {
      this.dispatch(resp);
    } catch (err) {
      // A listener or decoder threw; it must not tear down the socket's read loop.
      this.report(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private dispatch(resp: WsResponse): void {
    const p = resp.msgIncr !== "" ? this.pending.get(resp.msgIncr) : undefined;
    if (p && p.reqIdentifier !== resp.reqIdentifier) {
      // OpenIM echoes the request's reqIdentifier in its reply (msggateway/client.go replyMessage).
      this.settle(
        resp.msgIncr,
        new OpenImTransportError({
          kind: "bad-frame",
          protocolError: "mismatched-reply",
          reqIdentifier: p.reqIdentifier,
          operationID: p.operationID,
          message: `reply carries reqIdentifier ${resp.reqIdentifier}`,
        }),
      );
      return;
    }
    if (p) {
      if (resp.errCode !== 0) {
        const p = this.pending.get(resp.msgIncr);
        this.settle(
          resp.msgIncr,
          new OpenImError({
            errCode: resp.errCode,
            errMsg: resp.errMsg,
            reqIdentifier: resp.reqIdentifier,
            operationID: p?.operationID ?? resp.operationID,
          }),
        );
      } else {
        this.settle(resp.msgIncr, resp);
      }
      return;
    }
    switch (resp.reqIdentifier) {
      case ReqIdentifier.PushMsg: {
        if (this.listenerCount("pushed") > 0) {
          // The light path: heads and texts only (pb-lite), for listeners that need no more.
          const fresh = this.decode(resp, readPushMessages).filter((m) =>
            this.seqs.markSeen(m.conversationID, m.seq),
          );
          if (fresh.length > 0) this.emit("pushed", fresh);
          return;
        }
        const push = this.decode(resp, (b) => PbCoder.PushMessages.decode(b));
        const fresh = flattenConversationMaps(push.msgs, push.notificationMsgs).filter((m) =>
          this.seqs.markSeen(m.conversationID, m.seq),
        );
        if (fresh.length > 0) this.emitPush(fresh, "push");
        return;
      }
      case ReqIdentifier.KickOnlineMsg:
        this.wasKicked = true;
        this.emit("kicked");
        return;
      case ReqIdentifier.SubUserOnlineStatus:
        this.emit(
          "online-status",
          this.decode(resp, (b) => PbCoder.SubUserOnlineStatusTips.decode(b)).subscribers,
        );
        return;
      default:
        // A reply whose request already timed out lands here too; only a stranger is worth reporting.
        if (resp.msgIncr === "" || !KNOWN_REQ_IDENTIFIERS.has(resp.reqIdentifier)) {
          this.report(
            new OpenImTransportError({
              kind: "bad-frame",
              protocolError: "unknown-reqIdentifier",
              message: `unexpected frame with reqIdentifier ${resp.reqIdentifier}`,
            }),
          );
        }
    }
  }

  private emitPush(messages: ReceivedMsg[], source: PushSource): void {
    if (this.listenerCount("push") > 0) {
      this.emit("push", messages, source);
    } else if (this.heldPushes.length < MAX_HELD_PUSHES) {
      this.heldPushes.push([messages, source]);
    } else {
      this.report(new Error(`dropped ${messages.length} pushed message(s): no 'push' listener attached`));
    }
  }

  private releaseHeldPushes(): void {
    const held = this.heldPushes;
    this.heldPushes = [];
    for (const [messages, source] of held) this.emitPush(messages, source);
  }

  private settle(msgIncr: string, outcome: WsResponse | Error): void {
    const p = this.pending.get(msgIncr);
    if (!p) return;
    this.pending.delete(msgIncr);
    if (this.pending.size === 0) this.disarmDeadline();
    if (outcome instanceof Error) p.reject(outcome);
    else p.resolve(outcome);
  }

  private readonly envelopeHeads = new Map<number, string>();

  private envelopeHead(reqIdentifier: number): string {
    let head = this.envelopeHeads.get(reqIdentifier);
    if (head === undefined) {
      head = requestFrameHead(reqIdentifier, this.opts.token, this.userID);
      this.envelopeHeads.set(reqIdentifier, head);
    }
    return head;
  }

  private armDeadline(at: number): void {
    if (at >= this.deadlineAt) return;
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineAt = at;
    this.deadlineTimer = setTimeout(() => this.expireDue(), Math.max(0, at - performance.now()));
  }

  private disarmDeadline(): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    this.deadlineAt = Number.POSITIVE_INFINITY;
  }

  /** Fails every request past its deadline, then waits for the next earliest one. */
  private expireDue(): void {
    this.deadlineTimer = undefined;
    this.deadlineAt = Number.POSITIVE_INFINITY;
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    for (const [msgIncr, p] of this.pending) {
      if (p.deadline <= now) {
        this.pending.delete(msgIncr);
        p.reject(
          new OpenImTransportError({
            kind: "timeout",
            reqIdentifier: p.reqIdentifier,
            operationID: p.operationID,
            message: `no reply within ${p.timeoutMs} ms`,
          }),
        );
      } else if (p.deadline < next) next = p.deadline;
    }
    if (next !== Number.POSITIVE_INFINITY) this.armDeadline(next);
  }

  private rejectPending(why: string, protocolError?: ProtocolErrorKind): void {
    for (const [msgIncr, p] of this.pending) {
      this.settle(
        msgIncr,
        new OpenImTransportError({
          kind: "closed",
          reqIdentifier: p.reqIdentifier,
          operationID: p.operationID,
          message: why,
          ...(protocolError ? { protocolError } : {}),
        }),
      );
    }
  }

  private decode<T>(resp: WsResponse, decoder: (bytes: Uint8Array) => T): T {
    try {
      return decoder(resp.data);
    } catch (err) {
      throw new OpenImTransportError({
        kind: "bad-data",
        protocolError: "bad-data",
        reqIdentifier: resp.reqIdentifier,
        operationID: resp.operationID,
        message: `reply data is not the expected protobuf: ${(err as Error).message}`,
        cause: err,
      });
    }
  }

  private report(err: Error): void {
    if (this.listenerCount("error") > 0) this.emit("error", err);
    else {
      process.emitWarning(err.message, { code: "CUTOVER_OPENIM_WS" });
      if (this.heldErrors.length < MAX_HELD_ERRORS) this.heldErrors.push(err);
    }
  }
}
