import { randomBytes } from "node:crypto";
import type {
  ChatDriver,
  DriverFactory,
  DriverSession,
  DriverUser,
  InboundMessage,
  Recipient,
  SendAck,
} from "cutover/driver";
import WebSocket from "ws";
import type { Answers, Delivery, Request, ServerFrame } from "./protocol.js";

/**
 * The team's cutover driver for json-ws-chat (server.ts): what cutover's load engine and
 * `cutover check-driver` use to create users, log them in, send and receive. Everything it
 * needs to know about the stack is `options.url`, from the config that names it:
 *
 *   drivers: { mychat: { module: "./examples/json-ws-chat/driver.ts", options: { url: "ws://127.0.0.1:8080" } } }
 */

/** A request as the caller writes it: the connection numbers it. */
type WithoutID<R> = R extends unknown ? Omit<R, "id"> : never;
type Ask = WithoutID<Request>;

/** One WebSocket to the server, with answers matched to requests by id and deliveries handed on. */
class Connection {
  private nextID = 1;
  private readonly pending = new Map<
    number,
    { resolve: (r: ServerFrame) => void; reject: (e: Error) => void }
  >();
  private closing = false;

  private constructor(
    private readonly ws: WebSocket,
    private readonly onDelivery: (d: Delivery) => void,
  ) {
    ws.on("message", (data) => this.receive(data.toString()));
    // An error is followed by "close", which rejects whatever is pending.
    ws.on("error", () => {});
    ws.on("close", () => {
      for (const p of this.pending.values()) p.reject(new Error("connection closed"));
      this.pending.clear();
    });
  }

  static open(url: string, onDelivery: (d: Delivery) => void = () => {}): Promise<Connection> {
    const ws = new WebSocket(url, { handshakeTimeout: 10_000 });
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve(new Connection(ws, onDelivery)));
      ws.once("error", reject);
    });
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Resolves with the server's answer, or rejects with its error (or when the socket is gone). */
  async request<R extends Ask>(req: R): Promise<Answers[R["type"]]> {
    if (!this.open) throw new Error("not connected");
    const id = this.nextID++;
    const reply = await new Promise<ServerFrame>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ ...req, id }));
    });
    if ("push" in reply) throw new Error("a delivery answered a request");
    if (!reply.ok) throw new Error(`${req.type}: ${reply.error}`);
    // The server answers each request type with the fields protocol.ts lists for it.
    return reply.answer as Answers[R["type"]];
  }

  private receive(text: string): void {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(text) as ServerFrame; // the server is ours and speaks protocol.ts
    } catch {
      return;
    }
    if ("push" in frame) {
      // After close() nothing more reaches the session: cutover counts a late delivery as a bug.
      if (!this.closing) this.onDelivery(frame);
      return;
    }
    this.pending.get(frame.re)?.resolve(frame);
    this.pending.delete(frame.re);
  }

  close(): Promise<void> {
    this.closing = true;
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once("close", () => resolve());
      this.ws.close();
    });
  }
}

function toInbound(d: Delivery): InboundMessage {
  return {
    conversationID: d.conversationID,
    seq: d.seq,
    sendID: d.sendID,
    clientMsgID: d.clientMsgID,
    text: d.text,
    receivedAt: performance.now(),
  };
}

/** A logged-in user: its own socket, attached to its token, for sends and deliveries. */
class JsonWsChatSession implements DriverSession {
  private conn: Connection | undefined;

  constructor(
    readonly userID: string,
    private readonly url: string,
    private readonly token: string,
  ) {}

  async connect(onMessage: (msg: InboundMessage) => void): Promise<void> {
    const conn = await Connection.open(this.url, (d) => onMessage(toInbound(d)));
    await conn.request({ type: "attach", token: this.token });
    this.conn = conn;
  }

  async send(to: Recipient, text: string): Promise<SendAck> {
    if (!this.conn) throw new Error(`${this.userID} is not connected`);
    const clientMsgID = randomBytes(16).toString("hex");
    const ack = await this.conn.request({ type: "send", to, text, clientMsgID });
    return { clientMsgID: ack.clientMsgID, serverMsgID: ack.serverMsgID };
  }

  async disconnect(): Promise<void> {
    const conn = this.conn;
    this.conn = undefined;
    await conn?.close();
  }
}

export function jsonWsChatDriver(url: string): ChatDriver {
  // Register, login and group creation share one control socket, opened on first use.
  let control: Promise<Connection> | undefined;
  const ask = async <R extends Ask>(req: R): Promise<Answers[R["type"]]> => {
    if (!control || !(await control.catch(() => undefined))?.open) control = Connection.open(url);
    return (await control).request(req);
  };
  // A group is created with its owner's token: keep each user's latest.
  const tokens = new Map<string, string>();
  const loginAs = async (user: DriverUser): Promise<string> => {
    const { token } = await ask({ type: "login", userID: user.userID, password: user.password });
    tokens.set(user.userID, token);
    return token;
  };
  return {
    name: "json-ws-chat",
    async createUsers(count, prefix = "vu") {
      // Random IDs: unique across runs even when the server keeps its accounts.
      const users = Array.from({ length: count }, () => ({
        userID: `${prefix}_${randomBytes(6).toString("hex")}`,
        password: randomBytes(12).toString("base64url"),
        platformID: 0, // json-ws-chat has no platforms
      }));
      for (const u of users) await ask({ type: "register", userID: u.userID, password: u.password });
      return users;
    },
    async login(user) {
      return new JsonWsChatSession(user.userID, url, await loginAs(user));
    },
    async createGroup(owner, members) {
      const token = tokens.get(owner.userID) ?? (await loginAs(owner));
      return (await ask({ type: "createGroup", token, members: members.map((m) => m.userID) })).groupID;
    },
    async close() {
      const conn = await control?.catch(() => undefined);
      control = undefined;
      await conn?.close();
    },
  };
}

/** What cutover calls: the endpoints are OpenIM's and unused here; the server is `options.url`. */
export const createDriver: DriverFactory = (_endpoints, options) => {
  const url = options.url;
  if (typeof url !== "string" || !/^wss?:\/\//.test(url))
    throw new Error(`json-ws-chat: options.url must be the server's ws:// URL, got ${JSON.stringify(url)}`);
  return jsonWsChatDriver(url);
};
