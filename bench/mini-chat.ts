import type { AddressInfo } from "node:net";
import WebSocket, { WebSocketServer } from "ws";
import type { ChatDriver, DriverSession, InboundMessage, Recipient, SendAck } from "../src/drivers/driver.js";

/**
 * A chat server with no work in it — ack to the sender, push to the recipient, nothing
 * stored — and a driver for it. With nothing between the generator and the socket but
 * what is injected (a Toxiproxy latency), the measured change must be the injected one:
 * the accuracy check that OpenIM's own variance would drown on a shared 2-core machine.
 */
interface Frame {
  t: "send" | "ack" | "push";
  id?: number;
  to?: string;
  from?: string;
  text?: string;
  seq?: number;
}

export async function startMiniChatServer(): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  const sockets = new Map<string, WebSocket>();
  const seqs = new Map<string, number>();
  wss.on("connection", (ws, req) => {
    const user = new URL(req.url ?? "/", "http://x").searchParams.get("user") ?? "";
    sockets.set(user, ws);
    ws.on("close", () => {
      if (sockets.get(user) === ws) sockets.delete(user);
    });
    ws.on("message", (data) => {
      const f = JSON.parse(String(data)) as Frame;
      if (f.t !== "send" || !f.to) return;
      const conv = [user, f.to].sort().join("|");
      const seq = (seqs.get(conv) ?? 0) + 1;
      seqs.set(conv, seq);
      ws.send(JSON.stringify({ t: "ack", id: f.id } satisfies Frame));
      sockets.get(f.to)?.send(JSON.stringify({ t: "push", from: user, text: f.text, seq } satisfies Frame));
    });
  });
  const port = (wss.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of sockets.values()) ws.terminate();
        wss.close(() => resolve());
      }),
  };
}

/** `localAddresses`: source addresses to spread connections over (past ~28k ports per source address). */
export function miniChatDriver(url: string, localAddresses: string[] = []): ChatDriver {
  let next = 0;
  let logins = 0;
  return {
    name: "mini-chat",
    createUsers: async (count, prefix = "u") =>
      Array.from({ length: count }, () => ({ userID: `${prefix}${next++}`, password: "", platformID: 0 })),
    login: async (user) =>
      miniSession(url, user.userID, localAddresses[logins++ % Math.max(1, localAddresses.length)]),
    createGroup: async () => {
      throw new Error("the mini chat server has no groups");
    },
    close: async () => {},
  };
}

function miniSession(url: string, userID: string, localAddress?: string): DriverSession {
  let ws: WebSocket | undefined;
  let nextId = 0;
  const pending = new Map<number, (ack: SendAck) => void>();
  return {
    userID,
    async connect(onMessage: (m: InboundMessage) => void) {
      const socket = new WebSocket(`${url}/?user=${encodeURIComponent(userID)}`, {
        perMessageDeflate: false,
        ...(localAddress ? { localAddress } : {}),
      });
      await new Promise<void>((resolve, reject) => {
        socket.once("open", () => resolve());
        socket.once("error", reject);
      });
      socket.on("message", (data) => {
        const receivedAt = performance.now();
        const f = JSON.parse(String(data)) as Frame;
        if (f.t === "ack" && f.id !== undefined) {
          pending.get(f.id)?.({ clientMsgID: String(f.id) });
          pending.delete(f.id);
        } else if (f.t === "push") {
          onMessage({
            conversationID: [f.from, userID].sort().join("|"),
            seq: f.seq ?? 0,
            sendID: f.from ?? "",
            clientMsgID: "",
            text: f.text,
            receivedAt,
          });
        }
      });
      ws = socket;
    },
    send(to: Recipient, text: string) {
      if (!ws || !("userID" in to)) return Promise.reject(new Error("not connected, or not a user"));
      const id = nextId++;
      const socket = ws;
      return new Promise<SendAck>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error("no ack within 10 s"));
        }, 10_000);
        pending.set(id, (ack) => {
          clearTimeout(timer);
          resolve(ack);
        });
        socket.send(JSON.stringify({ t: "send", id, to: to.userID, text } satisfies Frame));
      });
    },
    async disconnect() {
      ws?.terminate();
      ws = undefined;
    },
  };
}
