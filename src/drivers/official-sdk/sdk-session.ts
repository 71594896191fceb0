import { nowUs } from "../../metrics/clock.js";
import { conversationIDOf } from "../../protocol/index.js";
import type { DriverSession, InboundMessage, Recipient, SendAck } from "../driver.js";
import type { SdkLoginConfig, SdkMessageItem } from "./host-protocol.js";
import { type LoginTimings, type SdkEvent, type SdkUser, sdkText } from "./sdk-user.js";

/** The SDK's new-message events: the batch one (all it raises while online, §9) and the offline batch. */
const NEW_MESSAGE_EVENTS = new Set(["OnRecvNewMessages", "onRecvOfflineNewMessages"]);

// The shared clock (µs) → this thread's performance.now(), which InboundMessage.receivedAt speaks.
const perfOffsetUs = nowUs() - Math.round(performance.now() * 1000);
const usToPerf = (us: number) => (us - perfOffsetUs) / 1000;

/** What an app sees as one incoming message: the SDK's MessageItem, as cutover's InboundMessage. */
export function toInbound(m: SdkMessageItem, atUs: number): InboundMessage {
  return {
    conversationID: conversationIDOf(m) ?? "",
    seq: m.seq,
    sendID: m.sendID,
    clientMsgID: m.clientMsgID,
    text: sdkText(m),
    receivedAt: usToPerf(atUs),
  };
}

/**
 * A load-engine session that is a real SDK instance. The SDK has no separate "open the
 * socket" step: connect() is its login, resolved when OnConnectSuccess and
 * OnSyncServerFinish have both fired (login-to-ready, as an app sees it). Messages reach
 * `onMessage` at the moment the SDK's callback ran, not when cutover heard of it.
 */
export class SdkSession implements DriverSession {
  private unsubscribe: (() => void) | undefined;
  /** Set by connect(): what the SDK's login took. */
  timings: LoginTimings | undefined;

  constructor(
    private readonly sdk: SdkUser,
    private readonly config: SdkLoginConfig,
    private readonly opts: {
      loginTimeoutMs: number;
      onDisconnect?: () => void;
    },
  ) {}

  get userID(): string {
    return this.sdk.userID;
  }

  async connect(onMessage: (msg: InboundMessage) => void): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = this.sdk.on((e: SdkEvent) => {
      if (!NEW_MESSAGE_EVENTS.has(e.name) || !Array.isArray(e.data)) return;
      for (const m of e.data as SdkMessageItem[]) {
        // Notifications (group created, member joined, …: contentType 1000–5000) are the server's, not a user's.
        if (m.contentType >= 1000 && m.contentType <= 5000) continue;
        onMessage(toInbound(m, e.atUs));
      }
    });
    this.timings = await this.sdk.login(this.config, this.opts.loginTimeoutMs);
  }

  async send(to: Recipient, text: string): Promise<SendAck> {
    const sent = await this.sdk.sendText(to, text);
    return { clientMsgID: sent.message.clientMsgID, serverMsgID: sent.message.serverMsgID };
  }

  async disconnect(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.opts.onDisconnect?.();
    await this.sdk.close();
  }
}
