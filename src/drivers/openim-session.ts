import { decodeText, OpenImTransportError, OpenImWsClient, type ReceivedMsg } from "../protocol/index.js";
import type { PushedMsg } from "../protocol/pb-lite.js";
import type { DriverSession, InboundMessage, Recipient, SendAck } from "./driver.js";

function toInbound(msg: ReceivedMsg, receivedAt: number): InboundMessage {
  return {
    conversationID: msg.conversationID,
    seq: Number(msg.seq),
    sendID: msg.sendID,
    clientMsgID: msg.clientMsgID,
    text: decodeText(msg),
    receivedAt,
    serverTime: Number(msg.sendTime) || undefined,
  };
}

function pushedToInbound(msg: PushedMsg, receivedAt: number): InboundMessage {
  return {
    conversationID: msg.conversationID,
    seq: msg.seq,
    sendID: msg.sendID,
    clientMsgID: msg.clientMsgID,
    text: msg.text,
    receivedAt,
    serverTime: msg.sendTime || undefined,
  };
}

/** Notifications (group created, member joined, …: contentType 1000–5000) are the server's, not a user's. */
const isUserMessage = (m: { notification: boolean; contentType: number }) =>
  !m.notification && (m.contentType < 1000 || m.contentType > 5000);

/** A logged-in user on OpenIM's message gateway, whichever way the token was obtained. */
export class OpenImSession implements DriverSession {
  private client: OpenImWsClient | undefined;

  constructor(
    readonly userID: string,
    private readonly platformID: number,
    private readonly token: string,
    private readonly wsURL: string,
  ) {}

  async connect(
    onMessage: (msg: InboundMessage) => void,
    onClosed?: (reason: string) => void,
    onHeartbeat?: (rttMs: number) => void,
    onProtocolError?: (kind: string) => void,
  ): Promise<void> {
    const client = await OpenImWsClient.connect({
      wsUrl: this.wsURL,
      userID: this.userID,
      token: this.token,
      platformID: this.platformID,
      reconnect: { maxAttempts: 5 },
    });
    // Live pushes read light (head and text only); catch-up pulls and early pushes come whole.
    client.on("pushed", (messages) => {
      const at = performance.now();
      for (const m of messages) if (isUserMessage(m)) onMessage(pushedToInbound(m, at));
    });
    client.on("push", (messages) => {
      const at = performance.now();
      for (const m of messages) if (isUserMessage(m)) onMessage(toInbound(m, at));
    });
    if (onHeartbeat) client.on("heartbeat", ({ rttMs }) => onHeartbeat(rttMs));
    client.on("error", (err) => {
      if (err instanceof OpenImTransportError && err.protocolError && onProtocolError)
        onProtocolError(err.protocolError);
      // Anything else stays the warning it was before a listener existed.
      else process.emitWarning(err.message, { code: "CUTOVER_OPENIM_WS" });
    });
    client.on("close", (info) => {
      // Our own disconnect() clears this.client first: only a close we did not ask for is reported.
      if (this.client === client)
        onClosed?.(
          `code ${info.code}${info.reason ? ` ${info.reason}` : ""}${info.wasKicked ? " (kicked)" : ""}`,
        );
    });
    this.client = client;
  }

  async send(to: Recipient, text: string): Promise<SendAck> {
    if (!this.client) throw new Error(`${this.userID} is not connected`);
    const ack = await this.client.sendText(
      "userID" in to ? { recvID: to.userID, text } : { groupID: to.groupID, text },
    );
    return {
      clientMsgID: ack.clientMsgID,
      serverMsgID: ack.serverMsgID,
      serverTime: ack.sendTime || undefined,
    };
  }

  async disconnect(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.close();
  }
}
