/**
 * The wire format of json-ws-chat: every frame is one JSON object. A client's request carries
 * an `id`; the server answers it with `{ re: id, ok: true, answer }` or `{ re: id, ok: false, error }`.
 * Deliveries are pushed unasked as `{ push: "message", … }`.
 */

export type To = { userID: string } | { groupID: string };

export type Request =
  | { id: number; type: "register"; userID: string; password: string }
  | { id: number; type: "login"; userID: string; password: string }
  /** Binds this socket to the token's user: from now on it receives that user's deliveries. */
  | { id: number; type: "attach"; token: string }
  /** Only on an attached socket: the sender is the socket's user. */
  | { id: number; type: "send"; to: To; text: string; clientMsgID: string }
  | { id: number; type: "createGroup"; token: string; members: string[] };

/** The `answer` of a successful reply, by request type. */
export interface Answers {
  register: Record<string, never>;
  login: { token: string };
  attach: { userID: string };
  send: { clientMsgID: string; serverMsgID: string; seq: number };
  createGroup: { groupID: string };
}

export type Reply = { re: number; ok: true; answer: unknown } | { re: number; ok: false; error: string };

export interface Delivery {
  push: "message";
  /** `d:<lower userID>:<higher userID>` for two users, `g:<groupID>` for a group. */
  conversationID: string;
  /** Per conversation, from 1. */
  seq: number;
  sendID: string;
  clientMsgID: string;
  serverMsgID: string;
  text: string;
}

export type ServerFrame = Reply | Delivery;
