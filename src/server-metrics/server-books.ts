import { setTimeout as sleep } from "node:timers/promises";
import { counterIncrease } from "./counter-increase.js";
import { PrometheusError, type PromSeries, promQuery, promTargets } from "./prom-api.js";

/**
 * What OpenIM v3.8.3 itself counts (pkg/common/prommetrics), read over a run's window. Each is
 * summed over every series of that name, whatever job or instance scraped it, so a team's own
 * Prometheus with its own job names answers the same queries.
 */
export const OPENIM_COUNTERS = {
  singleProcessed: {
    metric: "single_chat_msg_process_success_total",
    what: "single-chat sends the msg service accepted (after its Kafka write; internal/rpc/msg/send.go)",
  },
  singleFailed: {
    metric: "single_chat_msg_process_failed_total",
    what: "single-chat sends the msg service refused (verification; also counted by push for a failed push)",
  },
  groupProcessed: {
    metric: "group_chat_msg_process_success_total",
    what: "group sends the msg service accepted (after its Kafka write)",
  },
  groupFailed: { metric: "group_chat_msg_process_failed_total", what: "group sends the msg service refused" },
  mongoBatches: {
    metric: "msg_insert_mongo_success_total",
    what: "batches msgtransfer wrote to MongoDB (one per conversation batch, not per message)",
  },
  mongoFailed: {
    metric: "msg_insert_mongo_failed_total",
    what: "batches msgtransfer failed to write to MongoDB",
  },
  redisFailed: {
    metric: "msg_insert_redis_failed_total",
    what: "declared by OpenIM v3.8.3 but never incremented (nor its success twin): Redis writes are not counted",
  },
  seqSetFailed: { metric: "seq_set_failed_total", what: "msgtransfer's failed seq updates" },
  offlinePushFailed: { metric: "msg_offline_push_failed_total", what: "offline pushes that failed" },
  longPush: { metric: "msg_long_time_push_total", what: "pushes that took over 10 s (push service)" },
} as const;
export type OpenImCounter = keyof typeof OPENIM_COUNTERS;

/** The reference legacy pipeline's own books (reference/legacy/src/legacy-metrics.ts). */
export const LEGACY_COUNTERS = {
  stored: { metric: "legacy_messages_stored_total", what: "sends the chat service committed to Postgres" },
  published: { metric: "legacy_messages_published_total", what: "stored sends RabbitMQ confirmed" },
  sendFailed: {
    metric: "legacy_send_failures_total",
    what: "sends the chat service refused or failed, by reason",
  },
  consumed: {
    metric: "legacy_messages_consumed_total",
    what: "jobs the consumer took from RabbitMQ and acknowledged",
  },
  fannedOut: {
    metric: "legacy_messages_fanned_out_total",
    what: "Redis PUBLISHes by the consumer (one per member channel, the sender's included)",
  },
  pushed: {
    metric: "legacy_messages_pushed_total",
    what: "frames the websocket service wrote (one per recipient socket, the sender's own included)",
  },
  pushFailed: { metric: "legacy_push_failures_total", what: "frames the websocket service could not write" },
} as const;

/** Whose books a run reads: the stack its driver talks to. */
export type BookKind = "openim" | "legacy";

/** Push hands each message to every message gateway in one RPC (push/onlinepusher.go, DefaultAllNode). */
const GATEWAY_PUSH = 'rpc_count{path=~".*/SuperGroupOnlineBatchPushOneMsg",code="0"}';

export interface ServerWindowStart {
  prometheus: string;
  startSec: number;
  intervalSec: number;
  /** Targets scraped for the books (job/instance), and any that were down. */
  targets: number;
  down: string[];
}

/**
 * Waits until Prometheus has scraped every target after `sinceMs` (bounded: three scrape
 * intervals and five seconds). Called at an idle instant — before the schedule starts, after the
 * drain — so the sample it waits for holds exactly what happened before that instant.
 */
export async function awaitScrapeAfter(
  prometheus: string,
  sinceMs: number,
  onWait?: (line: string) => void,
): Promise<ServerWindowStart> {
  let targets = await promTargets(prometheus);
  const interval = Math.max(1, ...targets.map((t) => t.intervalSec));
  const deadline = Date.now() + 3 * interval * 1000 + 5000;
  if (interval > 2)
    onWait?.(`waiting up to ${interval * 3 + 5}s for Prometheus to scrape the server's books`);
  for (;;) {
    const up = targets.filter((t) => t.health === "up" && t.job !== "cutover");
    const stale = up.filter((t) => t.lastScrapeMs <= sinceMs);
    if (up.length > 0 && stale.length === 0) break;
    if (Date.now() > deadline)
      throw new PrometheusError(
        up.length === 0
          ? `Prometheus at ${prometheus} has no healthy target`
          : `Prometheus at ${prometheus} did not scrape ${stale.map((t) => `${t.job} ${t.instance}`).join(", ")} within ${Math.round((Date.now() - sinceMs) / 1000)}s`,
      );
    await sleep(Math.min(250, interval * 250));
    targets = await promTargets(prometheus);
  }
  return {
    prometheus,
    startSec: sinceMs / 1000,
    intervalSec: interval,
    targets: targets.length,
    down: targets
      .filter((t) => t.health !== "up")
      .map((t) => `${t.job} ${t.instance}: ${t.lastError || t.health}`),
  };
}

async function rawSeries(
  prometheus: string,
  selector: string,
  fromSec: number,
  toSec: number,
  intervalSec: number,
) {
  // Reach back three scrapes before the window so a series that existed has a sample there.
  const range = Math.ceil(toSec - fromSec + 3 * intervalSec + 1);
  return promQuery(prometheus, `${selector}[${range}s]`, toSec + 2 * intervalSec + 1);
}

function sumIncrease(series: PromSeries[], fromSec: number, toSec: number): number | null {
  if (series.length === 0) return 0; // never incremented: an unlabelled counter is 0 from the start
  let total = 0;
  for (const s of series) {
    const inc = counterIncrease(s.samples, fromSec, toSec);
    if (inc === undefined) return null;
    total += inc;
  }
  return Math.round(total);
}

export interface ClientBooks {
  sent: number;
  acked: number;
  expectedDeliveries: number;
  delivered: number;
  lost: number;
  /** Connections the clients held at the end of the measured phase. */
  connected: number;
  /** Single-chat and group sends (the scenario's mix), when the engine knows. */
  groupSends?: number;
}

export interface BookLine {
  stage: string;
  server: number | null;
  clients: number;
  difference: number | null;
  ok: boolean;
  explanation: string;
}

export interface ServerBooks {
  source: string;
  window: { start: string; end: string; scrapeIntervalSec: number };
  counters: Array<{ metric: string; what: string; value: number | null }>;
  /** Per message gateway instance: messages push handed to it. */
  gatewayPushes: Array<{ instance: string; value: number | null }>;
  reconciliation: BookLine[];
  /** One sentence a person reads first. */
  summary: string;
  onlineUsers: { server: number | null; clientsConnected: number; note: string };
  targetsDown: string[];
}

const n = (x: number) => x.toLocaleString("en-US");

/** Reads OpenIM's counters over [start, end] and sets them beside what the clients counted. */
export async function readServerBooks(
  start: ServerWindowStart,
  endMs: number,
  clients: ClientBooks,
  kind: BookKind,
  onWait?: (line: string) => void,
): Promise<ServerBooks> {
  const end = await awaitScrapeAfter(start.prometheus, endMs, onWait);
  const from = start.startSec;
  const to = end.startSec;
  const interval = Math.max(start.intervalSec, end.intervalSec);
  const at = to + 2 * interval + 1;
  const frame = {
    source: start.prometheus,
    window: {
      start: new Date(from * 1000).toISOString(),
      end: new Date(to * 1000).toISOString(),
      scrapeIntervalSec: interval,
    },
    targetsDown: [...new Set([...start.down, ...end.down])],
  };
  const read = (defs: Record<string, { metric: string; what: string }>) =>
    Promise.all(
      Object.values(defs).map(async (c) => ({
        metric: c.metric,
        what: c.what,
        value: sumIncrease(await rawSeries(start.prometheus, c.metric, from, to, interval), from, to),
      })),
    );
  const gauge = async (query: string) =>
    (await promQuery(start.prometheus, query, at).catch(() => []))[0]?.samples[0]?.[1] ?? null;

  if (kind === "legacy") {
    const counters = await read(LEGACY_COUNTERS);
    const v = (key: keyof typeof LEGACY_COUNTERS) =>
      counters.find((c) => c.metric === LEGACY_COUNTERS[key].metric)?.value ?? null;
    const [stored, published, consumed] = [v("stored"), v("published"), v("consumed")];
    return {
      ...frame,
      counters,
      gatewayPushes: [],
      reconciliation: reconcileLegacy(clients, stored, published, consumed),
      summary: summarizeLegacy(clients, stored, published, consumed),
      onlineUsers: {
        server: await gauge("sum(legacy_online_connections)"),
        clientsConnected: clients.connected,
        note: "legacy_online_connections: sockets the websocket service holds",
      },
    };
  }

  const counters = await read(OPENIM_COUNTERS);
  const value = (key: OpenImCounter) =>
    counters.find((c) => c.metric === OPENIM_COUNTERS[key].metric)?.value ?? null;
  const pushSeries = await rawSeries(start.prometheus, GATEWAY_PUSH, from, to, interval);
  const byInstance = new Map<string, PromSeries[]>();
  for (const s of pushSeries) {
    const key = s.labels.instance ?? "?";
    byInstance.set(key, [...(byInstance.get(key) ?? []), s]);
  }
  const gatewayPushes = [...byInstance].map(([instance, series]) => ({
    instance,
    value: sumIncrease(series, from, to),
  }));
  const singleOk = value("singleProcessed");
  const groupOk = value("groupProcessed");
  const processed = singleOk === null || groupOk === null ? null : singleOk + groupOk;
  const pushedValues = gatewayPushes.map((g) => g.value);
  const pushed = pushedValues.includes(null) ? null : Math.max(0, ...(pushedValues as number[]));
  return {
    ...frame,
    counters,
    gatewayPushes,
    reconciliation: reconcile(clients, processed, pushed),
    summary: summarize(clients, processed, pushed, gatewayPushes.length),
    onlineUsers: {
      server: await gauge("sum(online_user_num)"),
      clientsConnected: clients.connected,
      note: "online_user_num counts users per gateway instance (a user with sockets on two instances counts twice; two sockets on one instance once)",
    },
  };
}

/**
 * Stage by stage, where the server's count and the clients' should agree, and where a
 * difference says a message went missing: before the msg service, between it and the
 * gateways (Kafka → msgtransfer → push), or after the gateways (on the way to the client).
 */
export function reconcile(c: ClientBooks, processed: number | null, pushed: number | null): BookLine[] {
  return [
    line("accepted by the msg service (server) vs acked (clients)", processed, c.acked, (d) =>
      d === 0
        ? "every acked send was counted by the server, and nothing else"
        : d > 0
          ? `the server accepted ${n(d)} more than the clients saw acked (acks lost on the way back, or sends from outside this run)`
          : `${n(-d)} acked sends were never counted as accepted`,
    ),
    line("handed to the gateways by push (server) vs accepted (server)", pushed, processed ?? 0, (d) =>
      d === 0
        ? "push handed every accepted message to the gateways"
        : d < 0
          ? `${n(-d)} accepted messages never reached a gateway: lost between the msg service and the gateways (Kafka → msgtransfer → push)`
          : `push handed ${n(d)} more messages than were accepted (notifications or sends from outside this run)`,
    ),
    deliveriesLine(
      c,
      pushed !== null && processed !== null && pushed >= processed
        ? "after the gateways (between a gateway and the client): the server handed every message on"
        : undefined,
    ),
  ];
}

function line(
  stage: string,
  server: number | null,
  clients: number,
  explain: (d: number) => string,
): BookLine {
  const difference = server === null ? null : server - clients;
  return {
    stage,
    server,
    clients,
    difference,
    ok: difference === 0,
    explanation: server === null ? "not scraped after the run" : explain(difference as number),
  };
}

/** The clients' own last line: deliveries are per recipient, which no server counter is. */
function deliveriesLine(c: ClientBooks, lostAfter: string | undefined): BookLine {
  return {
    stage: "deliveries arrived vs expected (clients; one per recipient)",
    server: null,
    clients: c.delivered,
    difference: c.delivered - c.expectedDeliveries,
    ok: c.lost === 0,
    explanation:
      c.lost === 0
        ? "every expected delivery arrived"
        : lostAfter
          ? `${n(c.lost)} deliveries lost ${lostAfter}`
          : `${n(c.lost)} deliveries lost; the server's own books already miss messages before that`,
  };
}

function summarize(
  c: ClientBooks,
  processed: number | null,
  pushed: number | null,
  gateways: number,
): string {
  if (processed === null || pushed === null)
    return "the server's books could not be read for the whole window";
  const where =
    c.lost === 0
      ? "none lost"
      : pushed >= processed
        ? `${n(c.lost)} lost after push`
        : `${n(processed - pushed)} never reached a gateway`;
  return `server accepted ${n(processed)} (clients saw ${n(c.acked)} acked), pushed ${n(pushed)} to ${gateways === 1 ? "the gateway" : `each of ${gateways} gateways`}; clients saw ${n(c.delivered)} of ${n(c.expectedDeliveries)} deliveries: ${where}`;
}

/** The legacy pipeline's stages: Postgres → RabbitMQ → consumer (→ Redis pub/sub → websocket). */
export function reconcileLegacy(
  c: ClientBooks,
  stored: number | null,
  published: number | null,
  consumed: number | null,
): BookLine[] {
  return [
    line("stored by the chat service (server) vs acked (clients)", stored, c.acked, (d) =>
      d === 0
        ? "every acked send was stored, and nothing else"
        : d > 0
          ? `${n(d)} more stored than the clients saw acked (acks lost, or sends from outside this run)`
          : `${n(-d)} acked sends were never counted as stored`,
    ),
    line("published to RabbitMQ vs stored (server)", published, stored ?? 0, (d) =>
      d === 0 ? "every stored message was published" : `${n(-d)} stored messages were never published`,
    ),
    line("consumed from RabbitMQ vs published (server)", consumed, published ?? 0, (d) =>
      d === 0
        ? "the consumer took every published message"
        : d < 0
          ? `${n(-d)} published messages were not consumed by the end of the window (queued, or lost in RabbitMQ)`
          : `${n(d)} more consumed than published (redeliveries, or messages from before the run)`,
    ),
    deliveriesLine(
      c,
      consumed !== null && stored !== null && consumed >= stored
        ? "after the consumer (Redis pub/sub → websocket service → client): every message was consumed"
        : undefined,
    ),
  ];
}

function summarizeLegacy(
  c: ClientBooks,
  stored: number | null,
  published: number | null,
  consumed: number | null,
): string {
  if (stored === null || published === null || consumed === null)
    return "the legacy pipeline's books could not be read for the whole window";
  return `legacy stored ${n(stored)} (clients saw ${n(c.acked)} acked), published ${n(published)}, consumed ${n(consumed)}; clients saw ${n(c.delivered)} of ${n(c.expectedDeliveries)} deliveries: ${c.lost === 0 ? "none lost" : `${n(c.lost)} lost`}`;
}
