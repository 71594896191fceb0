import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { type RawData, type WebSocket, WebSocketServer } from "ws";
import type { Delivery, Request, To } from "./protocol.js";

/**
 * json-ws-chat: a tiny chat server of the kind a team's legacy stack might be — accounts,
 * direct and group messages, pushes over WebSocket — all in memory, in one process. It is
 * what examples/json-ws-chat/driver.ts drives; the wire format is in protocol.ts.
 *
 *   node --import tsx examples/json-ws-chat/server.ts 8080    # prints ws://127.0.0.1:8080
 */

export interface JsonWsChat {
  url: string;
  close(): Promise<void>;
}

/** A request the server refuses: answered as `{ ok: false, error }`, the socket stays open. */
class Refused extends Error {}

const isText = (v: unknown): v is string => typeof v === "string" && v.length > 0;

function parseTo(v: unknown): To | undefined {
  if (typeof v !== "object" || v === null) return undefined;
  const to = v as Record<string, unknown>;
  if (isText(to.userID)) return { userID: to.userID };
  if (isText(to.groupID)) return { groupID: to.groupID };
  return undefined;
}

/** A client frame checked field by field; undefined when it is not a request of protocol.ts. */
function parseRequest(raw: string): Request | undefined {
  let frame: unknown;
  try {
    frame = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof frame !== "object" || frame === null) return undefined;
  const f = frame as Record<string, unknown>;
  const id = f.id;
  if (typeof id !== "number") return undefined;
  switch (f.type) {
    case "register":
    case "login":
      return isText(f.userID) && isText(f.password)
        ? { id, type: f.type, userID: f.userID, password: f.password }
        : undefined;
    case "attach":
      return isText(f.token) ? { id, type: "attach", token: f.token } : undefined;
    case "send": {
      const to = parseTo(f.to);
      return to && typeof f.text === "string" && isText(f.clientMsgID)
        ? { id, type: "send", to, text: f.text, clientMsgID: f.clientMsgID }
        : undefined;
    }
    case "createGroup":
      return isText(f.token) && Array.isArray(f.members) && f.members.every(isText)
        ? { id, type: "createGroup", token: f.token, members: f.members }
        : undefined;
    default:
      return undefined;
  }
}

/** All the server's state; one instance per server. */
class Chat {
  // An example kept in memory: a real server would store a password hash, not the password.
  private readonly passwords = new Map<string, string>();
  private readonly tokens = new Map<string, string>(); // token → userID
  private readonly groups = new Map<string, Set<string>>(); // groupID → member userIDs
  private readonly seqs = new Map<string, number>(); // conversationID → last seq
  private readonly sockets = new Map<string, Set<WebSocket>>(); // userID → attached sockets
  private lastMessage = 0;

  /** Answers one request from `ws`; throws Refused for what a client did wrong. */
  handle(ws: WebSocket, req: Request): Record<string, unknown> {
    switch (req.type) {
      case "register":
        if (this.passwords.has(req.userID)) throw new Refused(`user ${req.userID} exists`);
        this.passwords.set(req.userID, req.password);
        return {};
      case "login": {
        if (this.passwords.get(req.userID) !== req.password) throw new Refused("wrong user or password");
        const token = randomUUID();
        this.tokens.set(token, req.userID);
        return { token };
      }
      case "attach": {
        const userID = this.userOf(req.token);
        this.attach(userID, ws);
        return { userID };
      }
      case "send":
        return this.send(this.attachedUser(ws), req.to, req.text, req.clientMsgID);
      case "createGroup":
        return { groupID: this.createGroup(this.userOf(req.token), req.members) };
    }
  }

  private userOf(token: string): string {
    const userID = this.tokens.get(token);
    if (!userID) throw new Refused("unknown token");
    return userID;
  }

  private attach(userID: string, ws: WebSocket): void {
    const set = this.sockets.get(userID) ?? new Set<WebSocket>();
    set.add(ws);
    this.sockets.set(userID, set);
    ws.once("close", () => set.delete(ws));
  }

  private attachedUser(ws: WebSocket): string {
    for (const [userID, set] of this.sockets) if (set.has(ws)) return userID;
    throw new Refused("attach this socket before sending");
  }

  private send(from: string, to: To, text: string, clientMsgID: string) {
    const { conversationID, recipients } = this.route(from, to);
    const seq = (this.seqs.get(conversationID) ?? 0) + 1;
    this.seqs.set(conversationID, seq);
    const serverMsgID = `m${++this.lastMessage}`;
    const delivery: Delivery = {
      push: "message",
      conversationID,
      seq,
      sendID: from,
      clientMsgID,
      serverMsgID,
      text,
    };
    const frame = JSON.stringify(delivery);
    for (const userID of recipients)
      for (const socket of this.sockets.get(userID) ?? [])
        if (socket.readyState === socket.OPEN) socket.send(frame);
    return { clientMsgID, serverMsgID, seq };
  }

  /** Who gets a message: the other user, or every group member but the sender. */
  private route(from: string, to: To): { conversationID: string; recipients: string[] } {
    if ("userID" in to) {
      if (!this.passwords.has(to.userID)) throw new Refused(`no user ${to.userID}`);
      const [lo, hi] = [from, to.userID].sort();
      return { conversationID: `d:${lo}:${hi}`, recipients: [to.userID] };
    }
    const members = this.groups.get(to.groupID);
    if (!members?.has(from)) throw new Refused(`${from} is not a member of ${to.groupID}`);
    return { conversationID: `g:${to.groupID}`, recipients: [...members].filter((m) => m !== from) };
  }

  private createGroup(owner: string, members: string[]): string {
    const unknown = members.find((m) => !this.passwords.has(m));
    if (unknown) throw new Refused(`no user ${unknown}`);
    const groupID = `grp_${randomUUID().slice(0, 8)}`;
    this.groups.set(groupID, new Set([owner, ...members]));
    return groupID;
  }
}

function answer(chat: Chat, ws: WebSocket, data: RawData): void {
  const req = parseRequest(data.toString());
  if (!req) {
    ws.send(JSON.stringify({ re: -1, ok: false, error: "not a request of protocol.ts" }));
    return;
  }
  try {
    ws.send(JSON.stringify({ re: req.id, ok: true, answer: chat.handle(ws, req) }));
  } catch (err) {
    if (!(err instanceof Refused)) throw err;
    ws.send(JSON.stringify({ re: req.id, ok: false, error: err.message }));
  }
}

/** Starts a server on 127.0.0.1 (`port: 0` picks a free port). */
export async function startJsonWsChat(opts: { port?: number } = {}): Promise<JsonWsChat> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: opts.port ?? 0 });
  await new Promise<void>((resolve, reject) => {
    wss.once("listening", resolve);
    wss.once("error", reject);
  });
  const chat = new Chat();
  wss.on("connection", (ws) => ws.on("message", (data) => answer(chat, ws, data)));
  const { port } = wss.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close(() => resolve());
      }),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const server = await startJsonWsChat({ port: Number(process.argv[2] ?? 8080) });
  process.stdout.write(`json-ws-chat listening on ${server.url}\n`);
}
