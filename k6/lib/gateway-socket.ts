import { clearInterval, clearTimeout, setInterval, setTimeout } from "k6/timers";
import { type MessageEvent, WebSocket } from "k6/websockets";
import { decodeResponse, encodeRequest, gatewayUrl, ReqIdentifier, TEXT_PING } from "./openim-frames.js";
import {
  decodePushMessages,
  decodeSendMsgResp,
  encodeTextMsgData,
  type PushedText,
  type SendAck,
  type TextMessage,
} from "./openim-messages.js";

/**
 * One user's connection to OpenIM's message gateway over k6/websockets, with promises for
 * open, ack and close: requests are matched to replies by msgIncr, pushes go to a handler.
 * Every wait is bounded by a timer, so an iteration always ends.
 */

interface Pending {
  resolve: (ack: SendAck) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class GatewaySocket {
  private readonly pending = new Map<string, Pending>();
  private incr = 0;
  private closing = false;
  private closedResolve: (() => void) | undefined;
  private readonly closed: Promise<void>;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  /** Set when the server closed a connection we did not close ourselves. */
  onDropped: (() => void) | undefined;
  onPush: ((msgs: PushedText[]) => void) | undefined;
  /** Frames that were not a gateway envelope: counted, not thrown, so one bad frame does not end the iteration. */
  badFrames = 0;

  private constructor(
    private readonly ws: WebSocket,
    readonly userID: string,
  ) {
    this.closed = new Promise((resolve) => {
      this.closedResolve = resolve;
    });
  }

  /** Opens and waits for the upgrade; rejects on an error, a refused handshake or after timeoutMs. */
  static open(wsBase: string, userID: string, token: string, platformID: number, timeoutMs: number) {
    return new Promise<GatewaySocket>((resolve, reject) => {
      const ws = new WebSocket(gatewayUrl(wsBase, userID, token, platformID));
      // Replies and pushes are binary frames; as ArrayBuffer they decode without a Blob round trip.
      ws.binaryType = "arraybuffer";
      const socket = new GatewaySocket(ws, userID);
      let opened = false;
      const timer = setTimeout(() => {
        if (opened) return;
        ws.close();
        reject(new Error(`connect ${userID}: no upgrade within ${timeoutMs} ms`));
      }, timeoutMs);
      ws.onopen = () => {
        opened = true;
        clearTimeout(timer);
        resolve(socket);
      };
      ws.onerror = (e) => {
        if (opened) return;
        clearTimeout(timer);
        reject(new Error(`connect ${userID}: ${e?.error ?? "error"}`));
      };
      ws.onmessage = (e) => socket.received(e);
      ws.onclose = () => {
        clearTimeout(timer);
        socket.onClosed(opened);
        if (!opened) reject(new Error(`connect ${userID}: closed before the upgrade`));
      };
    });
  }

  private received(e: MessageEvent | undefined): void {
    const data = e?.data;
    // Text frames are only the heartbeat's pong.
    if (!(data instanceof ArrayBuffer)) return;
    let resp: ReturnType<typeof decodeResponse>;
    try {
      resp = decodeResponse(data);
    } catch {
      this.badFrames++;
      return;
    }
    if (resp.reqIdentifier === ReqIdentifier.PushMsg) {
      if (resp.errCode === 0) this.onPush?.(decodePushMessages(resp.data));
      return;
    }
    const p = this.pending.get(resp.msgIncr);
    if (!p) return;
    this.pending.delete(resp.msgIncr);
    clearTimeout(p.timer);
    if (resp.errCode !== 0) p.reject(new Error(`send: errCode ${resp.errCode} ${resp.errMsg}`));
    else p.resolve(decodeSendMsgResp(resp.data));
  }

  private onClosed(opened: boolean): void {
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error("connection closed before the ack"));
    }
    this.pending.clear();
    if (opened && !this.closing) this.onDropped?.();
    this.closedResolve?.();
  }

  sendText(m: Omit<TextMessage, "sendID">, timeoutMs: number): Promise<SendAck> {
    const msgIncr = `${this.userID}_${++this.incr}`;
    return new Promise<SendAck>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(msgIncr);
        reject(new Error(`send: no ack within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(msgIncr, { resolve, reject, timer });
      this.ws.send(
        encodeRequest({
          reqIdentifier: ReqIdentifier.SendMsg,
          sendID: this.userID,
          operationID: msgIncr,
          msgIncr,
          data: encodeTextMsgData({ ...m, sendID: this.userID }),
        }),
      );
    });
  }

  /** The client's heartbeat (the server drops connections silent for longer than its pong wait). */
  keepAlive(everyMs: number): void {
    this.heartbeat = setInterval(() => this.ws.send(TEXT_PING), everyMs);
  }

  /** Closes and waits for the close handshake, at most timeoutMs. */
  close(timeoutMs = 5000): Promise<void> {
    this.closing = true;
    this.ws.close();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.closed.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
