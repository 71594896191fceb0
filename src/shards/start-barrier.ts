import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { request } from "undici";
import { z } from "zod";
import { CutoverError, errorMessage } from "../util/errors.js";
import { sleep } from "../util/time.js";
import { type Shard, shardLabel } from "./shard.js";
import { identityDifference, type ShardIdentity } from "./shard-identity.js";

/**
 * Shards start their schedules at one instant, and only once every shard has its users logged
 * in and connected: each shard says "ready" to shard 0, which holds the answers until the last
 * shard is ready and then hands every one the same start time, a few seconds ahead (so the
 * answer reaches every shard before it). Shard 0 is the one fixed address an Indexed Job gives
 * (`<job>-0.<service>`); nothing else is needed in the cluster. A shard that fails before it is
 * ready tells shard 0, and every shard fails with its reason instead of waiting; a shard that
 * never comes fails the others at the timeout, naming it.
 *
 * Clocks: the start time is wall-clock, so shards on different machines start within their
 * clocks' offset (NTP: milliseconds). No latency is ever read across two clocks — a shard's
 * messages are sent and received inside it.
 */

export interface BarrierOptions {
  /** http://host:port of shard 0's barrier. */
  url: string;
  shard: Shard;
  identity: ShardIdentity;
  /** How long a shard waits for all the others (setup of many users takes minutes). */
  timeoutMs: number;
  /** How far ahead of the release the start is set. */
  leadMs?: number;
  onProgress?: (line: string) => void;
}

export interface StartBarrier {
  /** Resolves with the agreed start instant (epoch ms) once every shard is ready. */
  ready(): Promise<number>;
  /** This shard cannot go on: every shard is told why (best effort). */
  abort(reason: string): Promise<void>;
  close(): Promise<void>;
}

export class BarrierError extends CutoverError {}

const DEFAULT_LEAD_MS = 3000;
/** A held answer is sent as "still waiting" after this long, so no proxy idles the request out and the shard can say where things are. */
const HOLD_MS = 20_000;
/** A start already this far in the past means the run began without this shard (it restarted). */
const LATE_START_MS = 1000;

const readyBody = z.object({
  index: z.number().int().nonnegative(),
  count: z.number().int().positive(),
  identity: z.record(z.string(), z.string()),
  /** How long the asker will wait for this answer; held no longer, so its last answer says who is missing. */
  holdMs: z.number().int().positive().max(HOLD_MS).optional(),
});
const abortBody = z.object({ index: z.number().int().nonnegative(), reason: z.string() });
const answer = z.union([
  z.object({ startAt: z.number() }),
  z.object({ waiting: z.array(z.number().int()), count: z.number().int() }),
  z.object({ error: z.string() }),
]);

export async function openBarrier(o: BarrierOptions): Promise<StartBarrier> {
  const url = parseBarrierURL(o.url);
  const server = o.shard.index === 0 ? await serveBarrier(url, o) : undefined;
  // This shard's own wait ends at once on abort, whether or not shard 0 can be told.
  const local = new AbortController();
  return {
    ready: () => awaitStart(url, o, local.signal),
    abort: async (reason) => {
      await post(url, "/abort", { index: o.shard.index, reason }, 5000).catch(() => {});
      local.abort(new BarrierError(`${shardLabel(o.shard)}: ${reason} before the start`));
    },
    close: async () => {
      await server?.close();
    },
  };
}

export function parseBarrierURL(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new BarrierError(`--barrier ${text}: not a URL (e.g. http://127.0.0.1:7070)`, 2);
  }
  if (url.protocol !== "http:") throw new BarrierError(`--barrier ${text}: only http:// is served`, 2);
  return url;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;

/** Shard 0's side: the ready shards, and the answers held until the last one comes. */
async function serveBarrier(url: URL, o: BarrierOptions): Promise<{ close(): Promise<void> }> {
  const ready = new Map<number, ShardIdentity>();
  const held = new Set<{ res: ServerResponse; timer: NodeJS.Timeout }>();
  let startAt: number | undefined;
  let failure: string | undefined;
  const first: ShardIdentity = o.identity;

  const send = (res: ServerResponse, status: number, body: z.infer<typeof answer>) => {
    if (res.writableEnded) return;
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  };
  const releaseAll = (status: number, body: z.infer<typeof answer>) => {
    for (const h of held) {
      clearTimeout(h.timer);
      send(h.res, status, body);
    }
    held.clear();
  };
  const fail = (why: string) => {
    failure ??= why;
    releaseAll(409, { error: failure });
  };
  const waiting = () => ({
    waiting: [...Array(o.shard.count).keys()].filter((i) => !ready.has(i)),
    count: o.shard.count,
  });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readJson(req);
    if (req.method === "POST" && req.url === "/abort") {
      const a = abortBody.safeParse(body);
      if (!a.success) return send(res, 400, { error: "abort: expected {index, reason}" });
      fail(`shard ${a.data.index}/${o.shard.count} failed before the start: ${a.data.reason}`);
      return send(res, 200, { error: failure ?? "" });
    }
    if (req.method !== "POST" || req.url !== "/ready")
      return send(res, 404, { error: "POST /ready or /abort" });
    const r = readyBody.safeParse(body);
    if (!r.success) return send(res, 400, { error: "ready: expected {index, count, identity}" });
    if (failure) return send(res, 409, { error: failure });
    const { index, count, identity } = r.data;
    const label = `shard ${index}/${count}`;
    const mismatch =
      count !== o.shard.count || index >= o.shard.count
        ? `${label} does not fit a run of ${o.shard.count} shards`
        : identityDifference(first, identity, [shardLabel(o.shard), label]);
    if (mismatch) {
      fail(mismatch);
      return send(res, 409, { error: mismatch });
    }
    if (startAt !== undefined) return send(res, 200, { startAt });
    if (!ready.has(index)) {
      ready.set(index, identity);
      o.onProgress?.(`start barrier: ${ready.size} of ${o.shard.count} shards ready`);
    }
    if (ready.size === o.shard.count) {
      startAt = Date.now() + (o.leadMs ?? DEFAULT_LEAD_MS);
      releaseAll(200, { startAt });
      return send(res, 200, { startAt });
    }
    const entry = { res, timer: setTimeout(() => {}, 0) };
    entry.timer = setTimeout(() => {
      held.delete(entry);
      send(res, 202, waiting());
    }, r.data.holdMs ?? HOLD_MS);
    held.add(entry);
    res.on("close", () => {
      clearTimeout(entry.timer);
      held.delete(entry);
    });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => send(res, 500, { error: errorMessage(err) }));
  });
  // In a cluster the URL names this pod by its DNS name, which it cannot bind: listen on every interface there.
  const host = LOOPBACK.test(url.hostname) ? url.hostname.replace(/^\[|\]$/g, "") : "0.0.0.0";
  const port = Number(url.port || 80);
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) =>
      reject(new BarrierError(`start barrier: cannot listen on ${host}:${port}: ${errorMessage(err)}`)),
    );
    server.listen(port, host, () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        releaseAll(409, { error: "the barrier closed (shard 0 ended)" });
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Every shard's side (shard 0's too, over loopback): say ready until the start comes back, bounded. */
async function awaitStart(url: URL, o: BarrierOptions, signal: AbortSignal): Promise<number> {
  const deadline = Date.now() + o.timeoutMs;
  const me = shardLabel(o.shard);
  let lastSeen: { waiting: number[]; count: number } | undefined;
  let lastError = "";
  while (Date.now() < deadline) {
    if (signal.aborted) throw signal.reason;
    let reply: { status: number; body: unknown };
    const left = deadline - Date.now();
    const holdMs = Math.max(1, Math.min(HOLD_MS, left - 500));
    try {
      reply = await post(
        url,
        "/ready",
        { index: o.shard.index, count: o.shard.count, identity: o.identity, holdMs },
        holdMs + 10_000,
        signal,
      );
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      // Shard 0 may not be listening yet (its pod starts later), or a request timed out: ask again.
      lastError = errorMessage(err);
      await sleep(Math.min(1000, Math.max(0, deadline - Date.now())));
      continue;
    }
    const a = answer.safeParse(reply.body);
    if (!a.success)
      throw new BarrierError(
        `${me}: the start barrier at ${url.origin} answered ${reply.status} with something else`,
      );
    const body = a.data;
    if ("error" in body) throw new BarrierError(`${me}: ${body.error}`);
    if ("startAt" in body) {
      if (body.startAt < Date.now() - LATE_START_MS)
        throw new BarrierError(
          `${me}: the run started without this shard (${new Date(body.startAt).toISOString()}); a shard cannot join a run under way`,
        );
      return body.startAt;
    }
    lastSeen = body;
    o.onProgress?.(
      `start barrier: ${body.count - body.waiting.length} of ${body.count} shards ready; waiting for ${body.waiting.join(", ")}`,
    );
  }
  const where = lastSeen
    ? `${lastSeen.count - lastSeen.waiting.length} of ${lastSeen.count} shards were ready; shard(s) ${lastSeen.waiting.join(", ")} never came`
    : `shard 0's barrier at ${url.origin} never answered${lastError ? ` (${lastError})` : ""}`;
  throw new BarrierError(
    `${me}: not every shard was ready within ${Math.round(o.timeoutMs / 1000)} s: ${where}`,
  );
}

async function post(url: URL, route: string, body: object, timeoutMs: number, signal?: AbortSignal) {
  const res = await request(new URL(route, url), {
    method: "POST",
    ...(signal ? { signal } : {}),
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const text = await res.body.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.statusCode, body: parsed };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = "";
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 1 << 20) return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
