import { randomBytes } from "node:crypto";
import http, { type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Redis } from "ioredis";
import { type RawData, WebSocket, WebSocketServer } from "ws";
import type { JwtCodec, SessionClaims } from "../../gateway/src/jwt.js";
import { writeMetrics } from "../../gateway/src/process-metrics.js";
import type { WebsocketMetrics } from "./legacy-metrics.js";
import { clientFrameSchema, type ServerFrame, USER_CHANNEL_PREFIX, userChannel } from "./protocol.js";

/**
 * messenger-websocket: clients connect with their JWT and receive JSON frames. While a
 * user has at least one connection, this process is subscribed to the user's Redis
 * channel; whatever the consumer publishes there is written to each of the user's
 * sockets as it is (the consumer's bytes, never re-encoded). Plain HTTP on the same port
 * answers /healthz and /metrics.
 */
export interface WebsocketParts {
  jwt: JwtCodec;
  /** A connection in subscriber mode, used for nothing else. */
  subscriber: Redis;
  /** Server keepalive: a ws ping every this many ms; a socket that missed the previous pong is dropped. */
  pingIntervalMs?: number;
  /** The process's registry and the push books, served on GET /metrics. */
  metrics: WebsocketMetrics;
}

function tokenOf(req: IncomingMessage): string | undefined {
  const url = new URL(req.url ?? "/", "http://localhost");
  const fromQuery = url.searchParams.get("token");
  if (fromQuery) return fromQuery;
  return /^Bearer ([A-Za-z0-9._-]+)$/.exec(req.headers.authorization ?? "")?.[1];
}

function refuse(socket: Duplex, status: number, reason: string): void {
  const body = JSON.stringify({
    error: { code: status === 401 ? "unauthorized" : "not_found", message: reason },
  });
  socket.end(
    `HTTP/1.1 ${status} ${status === 401 ? "Unauthorized" : "Not Found"}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

export function buildWebsocketServer(parts: WebsocketParts) {
  const { jwt, subscriber, metrics } = parts;
  const sockets = new Map<string, Set<WebSocket>>();
  const subscriptions = new Map<string, Promise<unknown>>();
  const alive = new WeakSet<WebSocket>();
  const counts = { connections: 0, delivered: 0, refused: 0 };
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024, perMessageDeflate: false });

  // Called by ws once the frame is handed to the socket (err: it could not be, the socket closed meanwhile).
  const written = (err?: Error) => {
    if (err) metrics.pushFailures.inc({ reason: "write_error" });
    else metrics.pushed.inc();
  };

  subscriber.on("messageBuffer", (channel: Buffer, message: Buffer) => {
    metrics.received.inc();
    const userID = channel.toString("utf8").slice(USER_CHANNEL_PREFIX.length);
    const set = sockets.get(userID);
    if (!set) return;
    for (const ws of set) {
      if (ws.readyState !== WebSocket.OPEN) {
        metrics.pushFailures.inc({ reason: "not_open" });
        continue;
      }
      ws.send(message, { binary: false }, written);
      counts.delivered += 1;
    }
  });

  /** Subscribes on the user's first connection; resolves once Redis confirmed, so nothing published after is missed. */
  function attach(userID: string, ws: WebSocket): Promise<unknown> {
    let set = sockets.get(userID);
    if (!set) {
      set = new Set();
      sockets.set(userID, set);
      metrics.users.inc();
      subscriptions.set(userID, subscriber.subscribe(userChannel(userID)));
    }
    set.add(ws);
    return subscriptions.get(userID) as Promise<unknown>;
  }

  function detach(userID: string, ws: WebSocket): void {
    const set = sockets.get(userID);
    if (!set?.delete(ws) || set.size > 0) return;
    sockets.delete(userID);
    metrics.users.dec();
    subscriptions.delete(userID);
    subscriber.unsubscribe(userChannel(userID)).catch(() => {});
  }

  const send = (ws: WebSocket, frame: ServerFrame) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
  };

  function onConnection(ws: WebSocket, claims: SessionClaims): void {
    counts.connections += 1;
    metrics.connections.inc();
    alive.add(ws);
    ws.on("pong", () => alive.add(ws));
    ws.on("message", (data: RawData, isBinary: boolean) => {
      let parsed: unknown;
      try {
        parsed = isBinary ? undefined : JSON.parse(data.toString());
      } catch {
        parsed = undefined;
      }
      const frame = clientFrameSchema.safeParse(parsed);
      if (!frame.success) {
        send(ws, {
          type: "error",
          code: "bad_frame",
          message: 'expected a JSON text frame such as {"type":"ping"}',
        });
        return;
      }
      send(ws, { type: "pong", ...(frame.data.id ? { id: frame.data.id } : {}) });
    });
    ws.on("close", () => {
      counts.connections -= 1;
      metrics.connections.dec();
      detach(claims.userID, ws);
    });
    ws.on("error", () => ws.terminate());
    attach(claims.userID, ws).then(
      () =>
        send(ws, {
          type: "hello",
          userID: claims.userID,
          platformID: claims.platformID,
          connectionID: randomBytes(8).toString("hex"),
        }),
      () => ws.close(1011, "subscription failed"),
    );
  }

  const server = http.createServer((req, res) => {
    if (req.url === "/metrics") return writeMetrics(metrics.register, res);
    if (req.url === "/healthz") {
      subscriber.ping().then(
        () =>
          res
            .writeHead(200, { "content-type": "application/json" })
            .end(JSON.stringify({ ok: true, users: sockets.size, ...counts })),
        () =>
          res
            .writeHead(503, { "content-type": "application/json" })
            .end(JSON.stringify({ ok: false, redis: false })),
      );
      return;
    }
    res
      .writeHead(404, { "content-type": "application/json" })
      .end('{"error":{"code":"not_found","message":"WebSocket only: /ws"}}');
  });

  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    if ((req.url ?? "").split("?")[0] !== "/ws") return refuse(socket, 404, "WebSocket path is /ws");
    const token = tokenOf(req);
    if (!token) {
      counts.refused += 1;
      metrics.refused.inc();
      return refuse(socket, 401, "missing token (?token=<jwt> or Authorization: Bearer <jwt>)");
    }
    jwt.verify(token).then(
      (claims) => wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, claims)),
      (err: unknown) => {
        counts.refused += 1;
        metrics.refused.inc();
        refuse(socket, 401, `invalid token: ${err instanceof Error ? err.message : String(err)}`);
      },
    );
  });

  const keepalive = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.has(ws)) {
        ws.terminate();
        continue;
      }
      alive.delete(ws);
      ws.ping();
    }
  }, parts.pingIntervalMs ?? 30_000);
  keepalive.unref();

  return {
    server,
    counts,
    async close(): Promise<void> {
      clearInterval(keepalive);
      for (const ws of wss.clients) ws.close(1001, "server stopping");
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
