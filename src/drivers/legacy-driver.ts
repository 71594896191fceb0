import WebSocket from "ws";
import {
  groupAnswerSchema,
  type LegacyLoginAnswer,
  loginAnswerSchema,
  type ServerFrame,
  sendAckSchema,
  serverFrameSchema,
} from "../../reference/legacy/src/protocol.js";
import { newClientMsgID } from "../protocol/ids.js";
import type { StackEndpoints } from "../stack/endpoints.js";
import type { ChatDriver, DriverSession, DriverUser, InboundMessage, Recipient, SendAck } from "./driver.js";
import { registerFreshUsers } from "./fresh-users.js";
import { gatewayClient } from "./gateway-client.js";

/**
 * The stack being retired, driven the way its apps use it: the same DH + JWT login as
 * the gateway (under /legacy/api/auth), sends as REST calls to the chat service, and
 * deliveries as JSON frames on the websocket service's /legacy/ws. `seq` is the chat
 * service's per-conversation sequence from Postgres, so loss, duplicates and ordering
 * are counted exactly as for OpenIM.
 *
 * It is also the example for a team's own legacy driver: a module whose default export
 * (or `createDriver`) takes the endpoints and returns a ChatDriver — see reference/legacy/README.md.
 */
export interface LegacyDriverOptions {
  platformID?: number;
  /** HTTP connections to nginx shared by every session's sends (default 64). */
  connections?: number;
  /** How long connect() waits for the server's hello frame (default 10 s). */
  helloTimeoutMs?: number;
}

export class LegacyProtocolError extends Error {
  override name = "LegacyProtocolError";
}

/** The login half of the driver, usable alone (cutover status uses it). */
export function legacyClient(baseURL: string, opts: { connections?: number } = {}) {
  const http = gatewayClient(baseURL, { connections: opts.connections ?? 64 });

  const call = (route: string, body: unknown, jwt?: string): Promise<unknown> =>
    http.expectOk("POST", route, body, jwt ? http.bearer(jwt) : {});

  return {
    /** Registration is the gateway's own: sealed credentials after a DH handshake. */
    register: (userID: string, password: string, nickname?: string) =>
      http.register(userID, password, nickname),
    async login(userID: string, password: string, platformID: number): Promise<LegacyLoginAnswer> {
      return loginAnswerSchema.parse(
        await http.sealed("/api/auth/login", { userID, password }, { platformID }),
      );
    },
    async createGroup(jwt: string, memberUserIDs: string[], groupName: string): Promise<string> {
      return groupAnswerSchema.parse(await call("/api/groups", { memberUserIDs, groupName }, jwt)).groupID;
    },
    async send(jwt: string, to: Recipient, text: string, clientMsgID: string) {
      const body =
        "userID" in to
          ? { recvID: to.userID, clientMsgID, text }
          : { groupID: to.groupID, clientMsgID, text };
      return sendAckSchema.parse(await call("/api/messages", body, jwt));
    },
    close: () => http.close(),
  };
}

export type LegacyClient = ReturnType<typeof legacyClient>;

/** A logged-in user of the legacy stack: its JWT for REST sends, its WebSocket for deliveries. */
export class LegacySession implements DriverSession {
  private ws: WebSocket | undefined;
  /** Set by disconnect(): the session is over, and a send after it is refused, as on OpenIM's. */
  private ended = false;
  /** Frames the server sent that do not follow reference/legacy/README.md's protocol. */
  protocolErrors = 0;

  constructor(
    private readonly client: LegacyClient,
    private readonly login: LegacyLoginAnswer,
    private readonly helloTimeoutMs = 10_000,
  ) {}

  get userID(): string {
    return this.login.userID;
  }

  connect(onMessage: (msg: InboundMessage) => void): Promise<void> {
    const url = new URL(this.login.wsURL);
    url.searchParams.set("token", this.login.jwt);
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: this.helloTimeoutMs });
    this.ws = ws;
    return new Promise<void>((resolve, reject) => {
      let greeted = false;
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`${this.userID}: no hello frame within ${this.helloTimeoutMs} ms`));
      }, this.helloTimeoutMs);
      ws.on("unexpected-response", (_req, res) => {
        clearTimeout(timer);
        reject(new Error(`${this.userID}: WebSocket refused with HTTP ${res.statusCode}`));
        ws.terminate();
      });
      ws.on("error", (err) => {
        clearTimeout(timer);
        if (!greeted) reject(new Error(`${this.userID}: WebSocket: ${err.message}`));
      });
      ws.on("close", () => clearTimeout(timer));
      ws.on("message", (data, isBinary) => {
        const receivedAt = performance.now();
        const frame = this.parse(data, isBinary);
        if (!frame) return;
        if (frame.type === "message") {
          onMessage({
            conversationID: frame.conversationID,
            seq: frame.seq,
            sendID: frame.sendID,
            clientMsgID: frame.clientMsgID,
            text: frame.text,
            receivedAt,
            serverTime: frame.sendTime,
          });
        } else if (frame.type === "hello" && !greeted) {
          greeted = true;
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  private parse(data: WebSocket.RawData, isBinary: boolean): ServerFrame | undefined {
    try {
      if (isBinary) throw new LegacyProtocolError("binary frame");
      const text = Array.isArray(data) ? Buffer.concat(data).toString("utf8") : data.toString("utf8");
      return serverFrameSchema.parse(JSON.parse(text));
    } catch {
      this.protocolErrors += 1;
      return undefined;
    }
  }

  async send(to: Recipient, text: string): Promise<SendAck> {
    if (this.ended) throw new Error(`${this.userID} is disconnected`);
    const ack = await this.client.send(this.login.jwt, to, text, newClientMsgID());
    return { clientMsgID: ack.clientMsgID, serverMsgID: ack.serverMsgID, serverTime: ack.sendTime };
  }

  async disconnect(): Promise<void> {
    this.ended = true;
    const ws = this.ws;
    this.ws = undefined;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 2000);
      ws.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
      ws.close(1000);
    });
  }
}

export function legacyDriver(endpoints: StackEndpoints, opts: LegacyDriverOptions = {}): ChatDriver {
  const legacy = endpoints.legacy;
  if (!legacy) {
    throw new Error(
      "this stack has no legacy pipeline: start it without --no-legacy (stack.local.legacy: true)",
    );
  }
  const client = legacyClient(legacy.baseURL, { connections: opts.connections });
  const platformID = opts.platformID ?? 3;
  // A group is created by its owner, so the driver keeps each user's latest JWT.
  const tokens = new Map<string, string>();
  const loginAs = async (user: DriverUser) => {
    const answer = await client.login(user.userID, user.password, user.platformID);
    tokens.set(user.userID, answer.jwt);
    return answer;
  };
  return {
    name: "legacy",
    createUsers: (count, prefix = "vu") =>
      registerFreshUsers((id, pw) => client.register(id, pw), count, prefix, platformID),
    async login(user) {
      return new LegacySession(client, await loginAs(user), opts.helloTimeoutMs);
    },
    async createGroup(owner, members) {
      const jwt = tokens.get(owner.userID) ?? (await loginAs(owner)).jwt;
      return client.createGroup(
        jwt,
        members.map((m) => m.userID),
        `cutover ${owner.userID}`,
      );
    },
    close: () => client.close(),
  };
}

/** The name a driver module exports (see reference/legacy/README.md): this file is also usable as `--driver <path>`. */
export const createDriver = legacyDriver;
