import { createHash } from "node:crypto";
import { connect } from "amqplib";
import pg from "pg";
import { request } from "undici";
import { DELIVERY_QUEUE } from "../../../reference/legacy/src/protocol.js";
import type { InboundMessage } from "../../drivers/driver.js";
import { GatewayError } from "../../drivers/gateway-client.js";
import { LegacySession, legacyClient } from "../../drivers/legacy-driver.js";
import { errorMessage } from "../../util/errors.js";
import type { StackEndpoints } from "../endpoints.js";

export interface LegacyHealthCheck {
  name: string;
  ok: boolean;
  detail: string;
}

type Legacy = NonNullable<StackEndpoints["legacy"]>;
const PLATFORM = 7; // the status probe's platform, as for OpenIM

async function check(name: string, probe: () => Promise<string>): Promise<LegacyHealthCheck> {
  try {
    return { name, ok: true, detail: await probe() };
  } catch (err) {
    return { name, ok: false, detail: errorMessage(err) };
  }
}

async function healthz(base: string): Promise<Record<string, unknown>> {
  const res = await request(`${base.replace(/^ws/, "http").replace(/\/ws$/, "")}/healthz`, {
    headersTimeout: 2000,
    bodyTimeout: 2000,
  });
  const body = (await res.body.json()) as Record<string, unknown>;
  if (res.statusCode !== 200) throw new Error(`/healthz answered ${res.statusCode}: ${JSON.stringify(body)}`);
  return body;
}

async function postgres(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on("error", () => {});
  try {
    await client.connect();
    const res = await client.query<{ messages: string; conversations: string }>(
      "SELECT (SELECT count(*) FROM messages) AS messages, (SELECT count(*) FROM conversations) AS conversations",
    );
    const row = res.rows[0];
    return `answers; ${row?.messages} messages in ${row?.conversations} conversations`;
  } finally {
    await client.end().catch(() => {});
  }
}

async function rabbitmq(url: string): Promise<string> {
  const connection = await connect(url, { timeout: 2000 });
  connection.on("error", () => {});
  try {
    const channel = await connection.createChannel();
    channel.on("error", () => {});
    const queue = await channel.checkQueue(DELIVERY_QUEUE);
    if (queue.consumerCount === 0) throw new Error(`queue ${DELIVERY_QUEUE} has no consumer`);
    return `queue ${DELIVERY_QUEUE}: ${queue.messageCount} waiting, ${queue.consumerCount} consumer(s)`;
  } finally {
    await connection.close().catch(() => {});
  }
}

/** Two probe accounts log in (DH + JWT) through nginx, connect, and one sends to the other. */
async function endToEnd(legacy: Legacy): Promise<string> {
  const client = legacyClient(legacy.baseURL, { connections: 2 });
  // Fixed probe accounts, their password known only to whoever can read this run's state.
  const password = createHash("sha256")
    .update(`status:${legacy.internal?.postgres ?? legacy.baseURL}`)
    .digest("hex");
  const ids = ["cutover_status_a", "cutover_status_b"] as const;
  const sessions: LegacySession[] = [];
  try {
    for (const id of ids) {
      await client.register(id, password).catch((err: unknown) => {
        if (!(err instanceof GatewayError && err.status === 409)) throw err; // registered by an earlier status
      });
    }
    const [a, b] = await Promise.all(ids.map((id) => client.login(id, password, PLATFORM)));
    if (!a || !b) throw new Error("login answered nothing");
    const sa = new LegacySession(client, a, 5000);
    const sb = new LegacySession(client, b, 5000);
    sessions.push(sa, sb);
    const text = `cutover status ${Date.now()}`;
    let resolveArrival: (m: InboundMessage) => void = () => {};
    const arrived = new Promise<InboundMessage>((resolve) => {
      resolveArrival = resolve;
    });
    await sa.connect(() => {});
    await sb.connect((m) => {
      if (m.text === text) resolveArrival(m);
    });
    const started = performance.now();
    await sa.send({ userID: b.userID }, text);
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error("sent, but not delivered within 5 s")), 5000).unref(),
    );
    const msg = await Promise.race([arrived, timeout]);
    return `DH + JWT login via nginx /legacy/, send → Postgres → RabbitMQ → Redis → WebSocket in ${(msg.receivedAt - started).toFixed(0)} ms, seq ${msg.seq}`;
  } finally {
    await Promise.all(sessions.map((s) => s.disconnect()));
    await client.close();
  }
}

/** Every part of the legacy pipeline, checked for real; an empty list when the stack runs without it. */
export async function checkLegacyHealth(endpoints: StackEndpoints): Promise<LegacyHealthCheck[]> {
  const legacy = endpoints.legacy;
  if (!legacy) return [];
  const internal = legacy.internal;
  const parts = internal
    ? [
        check("postgres", () => postgres(internal.postgres)),
        check("rabbitmq", () => rabbitmq(internal.amqp)),
        check("legacy chat", async () => {
          await healthz(internal.chat);
          return "/healthz ok (Redis, Postgres)";
        }),
        check("legacy consumer", async () => {
          const h = await healthz(internal.consumer);
          return `/healthz ok; ${h.jobs} jobs, ${h.published} publishes to Redis`;
        }),
        check("legacy websocket", async () => {
          const h = await healthz(internal.websocket);
          return `/healthz ok; ${h.connections} connections`;
        }),
      ]
    : [];
  return Promise.all([...parts, check("legacy via nginx", () => endToEnd(legacy))]);
}
