/**
 * The one seam the load engine and the suites know: how a virtual user gets an account,
 * logs in, opens its realtime channel, sends, and receives. `openim` goes through the
 * gateway as an app does; `openim-direct` skips it to isolate OpenIM; `legacy` drives the
 * stack being retired; a team can plug in its own module with the same shape.
 */

export interface DriverUser {
  userID: string;
  password: string;
  platformID: number;
}

export type Recipient = { userID: string } | { groupID: string };

export interface InboundMessage {
  conversationID: string;
  /** Per-conversation sequence number assigned by the server (0 when the stack has none). */
  seq: number;
  sendID: string;
  clientMsgID: string;
  text: string | undefined;
  /** performance.now() at arrival, in this process. */
  receivedAt: number;
  /** Unix ms the server stamped on the message (OpenIM's sendTime), where the stack says. */
  serverTime?: number;
}

export interface SendAck {
  clientMsgID: string;
  serverMsgID?: string;
  /** Unix ms the server stamped on the message, where the stack says: splits send→ack in two. */
  serverTime?: number;
}

export interface DriverSession {
  readonly userID: string;
  /**
   * Opens the realtime channel; every message delivered to this user goes to `onMessage`.
   * `onClosed`, if given, is told when the channel is gone for good without `disconnect()`
   * (the server closed it and no reconnection brought it back) — how a load run counts drops.
   */
  connect(
    onMessage: (msg: InboundMessage) => void,
    onClosed?: (reason: string) => void,
    /** Told each heartbeat's round trip (ping to first pong), where the channel has heartbeats. */
    onHeartbeat?: (rttMs: number) => void,
    /**
     * Told of each frame the server sent that breaks the protocol, outside any request (garbage,
     * unknown reqIdentifier, a gzip bomb…), with its kind, so a run counts what it would otherwise drop.
     */
    onProtocolError?: (kind: string) => void,
  ): Promise<void>;
  /** Resolves when the server acknowledged the send. */
  send(to: Recipient, text: string): Promise<SendAck>;
  disconnect(): Promise<void>;
}

export interface ChatDriver {
  readonly name: string;
  /** Creates `count` fresh accounts, unique across runs, that `login` accepts. */
  createUsers(count: number, prefix?: string): Promise<DriverUser[]>;
  login(user: DriverUser): Promise<DriverSession>;
  /** A group owned by `owner` with `members`; resolves with its ID. */
  createGroup(owner: DriverUser, members: DriverUser[]): Promise<string>;
  close(): Promise<void>;
}

/**
 * What a driver module exports (as `createDriver`, or its default export): given where the stack
 * is and the driver's options, a driver. Where a team's own stack is comes in the options, from
 * the config's `drivers` table (`{ module, options: { url } }`).
 */
export type DriverFactory = (
  endpoints: import("../stack/endpoints.js").StackEndpoints,
  options: Record<string, unknown>,
) => ChatDriver | Promise<ChatDriver>;
