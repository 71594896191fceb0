import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { decodeJwt, decodeProtectedHeader } from "jose";
import pg from "pg";
import { afterAll, describe, expect, inject, test } from "vitest";
import WebSocket from "ws";
import type { DriverUser, InboundMessage } from "../src/drivers/driver.js";
import { GatewayError, gatewayClient } from "../src/drivers/gateway-client.js";
import { legacyClient, legacyDriver } from "../src/drivers/legacy-driver.js";
import { deriveSessionKey, newKeyPair, seal } from "../src/protocol/gateway-auth.js";
import { singleConversationID } from "../src/protocol/ids.js";
import { checkLegacyHealth } from "../src/stack/local/legacy-health.js";
import { epmdAnswers, epmdService, planRabbit, rabbitmqService } from "../src/stack/local/legacy-rabbitmq.js";
import { rabbitAnswers } from "../src/stack/local/legacy-stack.js";
import { pickFreePorts } from "../src/stack/local/ports.js";
import { processStartTime, startProcess, stopProcess } from "../src/stack/local/processes.js";
import { waitFor } from "../src/util/time.js";

// The legacy pipeline of the shared local stack (reference/legacy): real Postgres, RabbitMQ and Redis behind it.
const endpoints = inject("endpoints");
const legacy = endpoints.legacy;
if (!legacy) throw new Error("the test stack runs without the legacy pipeline (stack.local.legacy: false?)");
const driver = legacyDriver(endpoints);
const client = legacyClient(legacy.baseURL, { connections: 4 });
afterAll(async () => {
  await Promise.all([driver.close(), client.close()]);
});

function inbox() {
  const messages: InboundMessage[] = [];
  return {
    messages,
    onMessage: (m: InboundMessage) => messages.push(m),
    async until(
      count: number,
      match: (m: InboundMessage) => boolean = () => true,
    ): Promise<InboundMessage[]> {
      for (let i = 0; i < 200 && messages.filter(match).length < count; i++)
        await new Promise((r) => setTimeout(r, 25));
      return messages.filter(match);
    },
  };
}

async function loggedIn(user: DriverUser) {
  const box = inbox();
  const session = await driver.login(user);
  await session.connect(box.onMessage);
  return { session, box };
}

describe("legacy login: the gateway's DH + JWT, under /legacy/api/auth", () => {
  test("a registered user logs in with sealed credentials and gets an HS256 JWT for itself and the /legacy/ws URL", async () => {
    const [user] = await driver.createUsers(1, "lgin");
    const answer = await client.login(user!.userID, user!.password, 5);
    expect(decodeProtectedHeader(answer.jwt).alg).toBe("HS256");
    expect(decodeJwt(answer.jwt)).toMatchObject({ sub: user!.userID, plat: 5, iss: "cutover-legacy" });
    expect(answer).toMatchObject({ userID: user!.userID, platformID: 5, role: "user", wsURL: legacy.wsURL });
  });

  test("a wrong password is refused with 401, and a captured login cannot be replayed", async () => {
    const [user] = await driver.createUsers(1, "lgin");
    await expect(client.login(user!.userID, "not-the-password", 3)).rejects.toMatchObject({ status: 401 });
    const http = gatewayClient(legacy.baseURL, { connections: 1 });
    try {
      const own = newKeyPair();
      const hs = (await http.request("POST", "/api/auth/handshake", { clientPublicKey: own.publicKey }))
        .body as { sessionID: string; serverPublicKey: string; salt: string };
      const key = deriveSessionKey(own.privateKey, hs.serverPublicKey, hs.salt);
      const body = {
        sessionID: hs.sessionID,
        ...seal(key, hs.sessionID, { userID: user!.userID, password: user!.password }),
        platformID: 3,
      };
      expect((await http.request("POST", "/api/auth/login", body)).status).toBe(200);
      expect((await http.request("POST", "/api/auth/login", body)).status).toBe(401);
    } finally {
      await http.close();
    }
  });

  test("the websocket service refuses a connection without a valid JWT (401)", async () => {
    for (const url of [legacy.wsURL, `${legacy.wsURL}?token=not.a.jwt`]) {
      const status = await new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(url);
        ws.on("unexpected-response", (_req, res) => {
          resolve(res.statusCode ?? 0);
          ws.terminate();
        });
        ws.on("open", () => reject(new Error("accepted")));
        ws.on("error", () => {});
      });
      expect(status).toBe(401);
    }
  });

  test("sending without a JWT is refused with 401", async () => {
    await expect(client.send("", { userID: "nobody" }, "hi", "c1")).rejects.toBeInstanceOf(GatewayError);
  });
});

describe("legacy messaging: REST send → Postgres seq → RabbitMQ → consumer → Redis → websocket", () => {
  test("the seq is the conversation's own, gapless across senders, and each message is stored in Postgres", async () => {
    const [a, b] = await driver.createUsers(2, "lseq");
    const alice = await loggedIn(a!);
    const bob = await loggedIn(b!);
    const acks = await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => alice.session.send({ userID: b!.userID }, `a${i}`)),
      ...Array.from({ length: 10 }, (_, i) => bob.session.send({ userID: a!.userID }, `b${i}`)),
    ]);
    const conversationID = singleConversationID(a!.userID, b!.userID);
    const got = await bob.box.until(20);
    expect(got).toHaveLength(20);
    expect(got.every((m) => m.conversationID === conversationID)).toBe(true);
    expect(got.map((m) => m.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(new Set(got.map((m) => m.clientMsgID))).toEqual(new Set(acks.map((k) => k.clientMsgID)));

    const db = new pg.Client({ connectionString: legacy.internal!.postgres });
    await db.connect();
    try {
      const rows = await db.query<{ seq: string; client_msg_id: string }>(
        "SELECT seq, client_msg_id FROM messages WHERE conversation_id = $1 ORDER BY seq",
        [conversationID],
      );
      expect(rows.rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      const last = await db.query<{ last_seq: string }>(
        "SELECT last_seq FROM conversations WHERE conversation_id = $1",
        [conversationID],
      );
      expect(Number(last.rows[0]?.last_seq)).toBe(20);
    } finally {
      await db.end();
    }
    await Promise.all([alice.session.disconnect(), bob.session.disconnect()]);
  });

  test("one sender's sequential sends arrive in seq order, and the sender's own connection gets them too", async () => {
    const [a, b] = await driver.createUsers(2, "lord");
    const alice = await loggedIn(a!);
    const bob = await loggedIn(b!);
    for (let i = 0; i < 15; i++) await alice.session.send({ userID: b!.userID }, `m${i}`);
    const atBob = await bob.box.until(15);
    const atAlice = await alice.box.until(15);
    expect(atBob.map((m) => m.seq)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    expect(atBob.map((m) => m.text)).toEqual(Array.from({ length: 15 }, (_, i) => `m${i}`));
    expect(atAlice.map((m) => m.seq)).toEqual(atBob.map((m) => m.seq));
    await Promise.all([alice.session.disconnect(), bob.session.disconnect()]);
  });

  test("every connection of a user receives its messages (two devices)", async () => {
    const [a, b] = await driver.createUsers(2, "ldev");
    const alice = await loggedIn(a!);
    const phone = await loggedIn(b!);
    const laptop = await loggedIn({ ...b!, platformID: 5 });
    const ack = await alice.session.send({ userID: b!.userID }, "both devices");
    for (const device of [phone, laptop]) {
      const got = await device.box.until(1, (m) => m.clientMsgID === ack.clientMsgID);
      expect(got).toHaveLength(1);
    }
    await Promise.all([alice, phone, laptop].map((x) => x.session.disconnect()));
  });

  test("a user outside a group cannot send to it (403 not_member), nor to a group that does not exist (404)", async () => {
    const [owner, member, outsider] = await driver.createUsers(3, "lgrp");
    const groupID = await driver.createGroup(owner!, [member!]);
    const jwt = (await client.login(outsider!.userID, outsider!.password, 3)).jwt;
    await expect(client.send(jwt, { groupID }, "let me in", "c1")).rejects.toMatchObject({
      status: 403,
      code: "not_member",
    });
    await expect(client.send(jwt, { groupID: "no_such_group" }, "hello?", "c2")).rejects.toMatchObject({
      status: 404,
    });
  });

  test("a group with a member that has no account is refused (404) and nothing is created", async () => {
    const [owner] = await driver.createUsers(1, "lgrp");
    const jwt = (await client.login(owner!.userID, owner!.password, 3)).jwt;
    await expect(client.createGroup(jwt, ["nobody_has_this_id_x"], "g")).rejects.toMatchObject({
      status: 404,
    });
  });
});

/** The sum of every series named `name` in a Prometheus exposition (0 when there is none yet). */
function total(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{.*\})? (\S+)$/.exec(line);
    if (m?.[1] === name) sum += Number(m[2]);
  }
  return sum;
}

async function scrape(base: string): Promise<string> {
  const res = await fetch(`${base}/metrics`);
  expect(res.status, `${base}/metrics`).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

describe("the legacy services' books: GET /metrics on each service", () => {
  const internal = legacy.internal;
  if (!internal) throw new Error("the test stack names no internal legacy addresses");
  const services = {
    chat: internal.chat,
    consumer: internal.consumer,
    // The websocket service answers plain HTTP (/healthz, /metrics) on its WebSocket port.
    websocket: internal.websocket.replace(/^ws/, "http").replace(/\/ws$/, ""),
  };
  const BOOKS = {
    chat: ["legacy_messages_stored_total", "legacy_messages_published_total", "legacy_send_failures_total"],
    consumer: [
      "legacy_messages_consumed_total",
      "legacy_messages_fanned_out_total",
      "legacy_fanout_no_subscriber_total",
      "legacy_consume_failures_total",
      "legacy_messages_redelivered_total",
    ],
    websocket: [
      "legacy_messages_received_total",
      "legacy_messages_pushed_total",
      "legacy_push_failures_total",
      "legacy_online_connections",
    ],
  } as const;

  async function books(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const [service, names] of Object.entries(BOOKS)) {
      const text = await scrape(services[service as keyof typeof services]);
      for (const name of names) out[name] = total(text, name);
    }
    return out;
  }
  const minus = (after: Record<string, number>, before: Record<string, number>) =>
    Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]));

  test("each service serves its process's CPU, memory, heap, GC and event-loop lag", async () => {
    for (const [service, base] of Object.entries(services)) {
      const text = await scrape(base);
      for (const name of [
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "nodejs_heap_size_used_bytes",
        "nodejs_eventloop_lag_p99_seconds",
        "nodejs_gc_duration_seconds_count",
      ])
        expect(text, `${service}: ${name}`).toMatch(new RegExp(`^${name}(\\{[^}]*\\})? `, "m"));
    }
  });

  test("N sends: stored = published = consumed = N, fanned out once per recipient user, pushed once per recipient socket", {
    timeout: 60_000,
  }, async () => {
    const N = 12;
    const [a, b] = await driver.createUsers(2, "lbook");
    // Recipients of a direct message: the receiver (two devices) and the sender's own connection.
    const alice = await loggedIn(a!);
    const phone = await loggedIn(b!);
    const laptop = await loggedIn({ ...b!, platformID: 5 });
    const before = await books();
    const acks = await Promise.all(
      Array.from({ length: N }, (_, i) => alice.session.send({ userID: b!.userID }, `book ${i}`)),
    );
    const ids = new Set(acks.map((k) => k.clientMsgID));
    for (const who of [alice, phone, laptop])
      expect(await who.box.until(N, (m) => ids.has(m.clientMsgID))).toHaveLength(N);

    const expected = {
      legacy_messages_stored_total: N,
      legacy_messages_published_total: N,
      legacy_send_failures_total: 0,
      legacy_messages_consumed_total: N,
      legacy_messages_fanned_out_total: 2 * N, // alice's and bob's channel
      legacy_fanout_no_subscriber_total: 0,
      legacy_consume_failures_total: 0,
      legacy_messages_redelivered_total: 0,
      legacy_messages_received_total: 2 * N,
      legacy_messages_pushed_total: 3 * N, // alice's socket, bob's phone and laptop
      legacy_push_failures_total: 0,
      legacy_online_connections: 0,
    };
    // A counter moves right after the event it counts (a frame's write callback, an ack), which may be
    // a moment after the client saw the message: read until the books settle, then compare them whole.
    let delta: Record<string, number> = {};
    for (let i = 0; i < 100; i++) {
      delta = minus(await books(), before);
      if (Object.entries(expected).every(([k, v]) => delta[k] === v)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(delta).toEqual(expected);

    await Promise.all([alice, phone, laptop].map((x) => x.session.disconnect()));
    let online = 0;
    for (let i = 0; i < 100; i++) {
      online = (await books()).legacy_online_connections ?? Number.NaN;
      if (online === (before.legacy_online_connections ?? 0) - 3) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(online).toBe((before.legacy_online_connections ?? 0) - 3);
  });
});

describe("cutover status for the legacy pipeline", () => {
  test("checks Postgres, RabbitMQ (queue has its consumer), each service and a delivery through nginx", async () => {
    const checks = await checkLegacyHealth(endpoints);
    expect(checks.map((c) => c.name)).toEqual([
      "postgres",
      "rabbitmq",
      "legacy chat",
      "legacy consumer",
      "legacy websocket",
      "legacy via nginx",
    ]);
    for (const c of checks) expect(c, c.detail).toMatchObject({ ok: true });
  });
});

/** Every live process descended from `pid` (children of helpers that setsid'd included), from /proc. */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone meanwhile
    }
  }
  const found = [pid];
  for (let i = 0; i < found.length; i++)
    for (const [child, ppid] of parent) if (ppid === found[i]) found.push(child);
  return found;
}

describe("a legacy RabbitMQ node, as the local stack runs it", () => {
  test("runs on its own epmd, and stopping both by pid leaves no epmd, beam or helper behind", {
    timeout: 120_000,
  }, async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), "cutover-rabbit-"));
    try {
      const config = path.join(root, "config");
      mkdirSync(config);
      const [amqp, dist, epmdPort] = (await pickFreePorts(3)) as [number, number, number];
      const node = planRabbit(path.join(root, "data"), config, { amqp, dist, epmd: epmdPort });
      const epmd = startProcess({ ...epmdService(node), log: path.join(root, "epmd.log") });
      await waitFor("epmd", async () => ((await epmdAnswers(epmdPort)) ? true : undefined), {
        timeoutMs: 10_000,
      });
      const rabbit = startProcess({ ...rabbitmqService(node), log: path.join(root, "rabbitmq.log") });
      await waitFor("rabbitmq", () => rabbitAnswers(node.url), { timeoutMs: 90_000, intervalMs: 250 });
      const family = [...descendants(rabbit.pid), ...descendants(epmd.pid)];
      expect(family.length).toBeGreaterThanOrEqual(3); // wrapper script, beam.smp, epmd (+ erl_child_setup …)
      await stopProcess(rabbit);
      await stopProcess(epmd);
      await waitFor(
        "helpers gone",
        async () => (family.every((p) => !processStartTime(p)) ? true : undefined),
        {
          timeoutMs: 5000,
        },
      );
      expect(await epmdAnswers(epmdPort)).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
