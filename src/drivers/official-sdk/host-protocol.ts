/**
 * What cutover says to one official-SDK user and what it hears back — the same messages
 * whether the SDK is the native core in its own Node process (over the IPC channel) or
 * the wasm build in a Chromium page (over page.evaluate / an exposed function).
 */

/** How the SDK reaches OpenIM and who logs in (the SDK's initSDK + login parameters). */
export interface SdkLoginConfig {
  userID: string;
  /** An imToken for (userID, platformID). The SDK's login() answers errCode 0 even for a bad one. */
  token: string;
  platformID: number;
  /** OpenIM's REST API (the SDK syncs friends, groups and conversations over it at login). */
  apiAddr: string;
  /** OpenIM's message gateway WebSocket. */
  wsAddr: string;
}

export type SdkRecipient = { userID: string } | { groupID: string };

export type HostCommand =
  | { id: number; op: "login"; config: SdkLoginConfig }
  | { id: number; op: "sendText"; to: SdkRecipient; text: string }
  /** Any other public SDK method by name (getOneConversation, logout, …), arguments as the SDK takes them. */
  | { id: number; op: "call"; method: string; args: unknown[] }
  | { id: number; op: "exit" };

/** An SDK failure as the SDK reports it (its WsResponse minus the data). */
export interface SdkFailure {
  errCode: number;
  errMsg: string;
}

export type HostMessage =
  /** The host loaded the SDK and waits for commands. */
  | { kind: "ready"; atUs: number; sdkVersion: string }
  | { kind: "reply"; id: number; ok: true; data: unknown; atUs: number }
  | { kind: "reply"; id: number; ok: false; error: SdkFailure; atUs: number }
  /** One SDK callback (OnConnectSuccess, OnRecvNewMessages, OnKickedOffline, …) as the app would see it. */
  | { kind: "event"; name: string; errCode: number; errMsg: string; data: unknown; atUs: number }
  /** Something went wrong in the host itself (not an SDK answer). */
  | { kind: "fatal"; message: string };

/** The text message the SDK created and sent, as its send callback returned it. */
export interface SdkSentText {
  message: SdkMessageItem;
  /** On the shared monotonic clock (µs): before createTextMessage, and when sendMessage's callback came. */
  startedUs: number;
  ackedUs: number;
}

/** The fields of the SDK's MessageItem that cutover reads (wasm-client-sdk lib/types/entity.d.ts). */
export interface SdkMessageItem {
  clientMsgID: string;
  serverMsgID: string;
  createTime: number;
  sendTime: number;
  sessionType: number;
  sendID: string;
  recvID: string;
  groupID: string;
  contentType: number;
  senderPlatformID: number;
  seq: number;
  status: number;
  textElem?: { content: string };
  /** The SDK's JSON rendering of the element (e.g. `{"content":"hi"}` for a text). */
  content?: string;
}
