import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { measureChild } from "./measure.js";
import type { PeerRow } from "./row.js";
import { type FramedUser, perUser, type Target, type Workload } from "./workload.js";

/**
 * Tsung (Debian's package, its websocket plugin `ts_websocket`): one Tsung user per chat user,
 * started 10 ms apart (static users: an arrival phase is Poisson and may start fewer), each reading its userID, token and pre-built SendMsg frame
 * from a CSV file (setdynvars, in order), connecting to the gateway with its token, sleeping to
 * the shared start instant plus its offset (a few lines of Erlang in an eval setdynvars: Tsung
 * has no absolute start time), then sending the frame every interval (a <for> of a request and a
 * thinktime). Installed with apt-get when missing, as `cutover doctor --fix` installs packages.
 *
 * `ack`: "no_ack" sends without waiting (the rate holds; Tsung then times nothing, it counts
 * request_noack); "parse" waits for the next frame on the socket after each send and times that
 * (tsung.log: a mean, stddev, max and min per 10 s and from the start, no percentiles).
 * `fullstats`: Tsung's `backend="fullstats"` also writes every sample to tsung-fullstats.log,
 * from which its tsung_percentile.pl (and this file) compute percentiles after the run.
 */
export type TsungAck = "no_ack" | "parse";
export interface TsungMode {
  ack: TsungAck;
  fullstats: boolean;
}

export function ensureTsung(log: (line: string) => void): string {
  const found = spawnSync("sh", ["-c", "command -v tsung"], { encoding: "utf8" });
  if (found.status === 0 && found.stdout.trim() !== "") return found.stdout.trim();
  log("installing Tsung (apt-get install -y tsung; brings Erlang) …");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const r = spawnSync("apt-get", ["install", "-y", "tsung"], {
    stdio: ["ignore", "inherit", "inherit"],
    env,
    timeout: 15 * 60_000,
  });
  if (r.status !== 0)
    throw new Error(`apt-get install -y tsung failed (exit ${r.status}); run apt-get update first`);
  log("Tsung installed");
  return "tsung";
}

/** The pids of epmd daemons running now (Erlang's name server: Tsung's VM starts one and leaves it). */
function epmdDaemons(): Set<number> {
  const out = new Set<number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (path.basename(cmd[0] ?? "") === "epmd" && cmd.includes("-daemon")) out.add(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Stops the epmd daemons that were not there before this run started Tsung (by pid: only ours). */
function stopNewEpmd(before: Set<number>): void {
  for (const pid of epmdDaemons()) {
    if (before.has(pid)) continue;
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
}

function firstDumpWritten(logDir: string): boolean {
  if (!existsSync(logDir)) return false;
  for (const run of readdirSync(logDir)) {
    const file = path.join(logDir, run, "tsung.log");
    if (existsSync(file) && readFileSync(file, "utf8").includes("# stats: dump")) return true;
  }
  return false;
}

const xmlEscape = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export function tsungConfig(o: {
  target: Target;
  workload: Workload;
  csv: string;
  readyFile: string;
  goFile: string;
  /** How many 50 ms polls for the start instant before starting anyway. */
  goPolls: number;
  mode: TsungMode;
}): string {
  const w = o.workload;
  const { intervalMs, messages } = perUser(w);
  const ws = new URL(o.target.endpoints.openimWs);
  const base = ws.pathname === "" ? "/" : ws.pathname;
  // The query the bare script and cutover send (buildGatewayUrl), token and user per Tsung user.
  const query =
    "sendID=%%_uid%%&token=%%_token%%&platformID=3&operationID=peer-%%_uid%%&sdkType=js&isBackground=false&isMsgResp=false";
  // Tsung has no start instant: each user says it is connected, waits for the instant the
  // bench writes (measure.ts), then sleeps to its own offset after it.
  const waitCode = [
    "fun({_Pid, DynVars}) ->",
    "  {ok, Off} = ts_dynvars:lookup(offset, DynVars),",
    // 10, not "\\n": the code travels in an XML attribute, where a newline becomes a space.
    `  ok = file:write_file("${o.readyFile}", <<"ready", 10>>, [append]),`,
    "  Poll = fun Poll(N) ->",
    `    case file:read_file("${o.goFile}") of`,
    "      {ok, B} when byte_size(B) > 1 -> binary_to_integer(string:trim(B));",
    "      _ when N > 0 -> timer:sleep(50), Poll(N - 1);",
    "      _ -> erlang:system_time(millisecond)",
    "    end",
    "  end,",
    `  Start = Poll(${o.goPolls}),`,
    "  Wait = Start + binary_to_integer(Off) - erlang:system_time(millisecond),",
    "  if Wait > 0 -> timer:sleep(Wait); true -> ok end,",
    "  integer_to_list(Wait)",
    "end.",
  ].join(" ");
  return `<?xml version="1.0"?>
<!DOCTYPE tsung SYSTEM "/usr/share/tsung/tsung-1.0.dtd">
<tsung loglevel="warning" version="1.0" dumptraffic="false"${o.mode.fullstats ? ' backend="fullstats"' : ""}>
  <clients>
    <client host="localhost" use_controller_vm="true" maxusers="${w.users + 10}"/>
  </clients>
  <servers>
    <server host="${ws.hostname}" port="${ws.port}" type="tcp"/>
  </servers>
  <load>
${Array.from({ length: w.users }, (_, i) => `    <user session="direct-chat" start_time="${i * 10}" unit="millisecond"/>`).join("\n")}
  </load>
  <options>
    <option name="file_server" id="users" value="${xmlEscape(o.csv)}"/>
  </options>
  <sessions>
    <session name="direct-chat" probability="100" type="ts_websocket">
      <setdynvars sourcetype="file" fileid="users" delimiter=";" order="iter">
        <var name="uid"/>
        <var name="token"/>
        <var name="offset"/>
        <var name="frame"/>
      </setdynvars>
      <request subst="true">
        <websocket type="connect" path="${xmlEscape(`${base}?${query}`)}"></websocket>
      </request>
      <setdynvars sourcetype="eval" code="${xmlEscape(waitCode)}">
        <var name="waited"/>
      </setdynvars>
      <transaction name="sends">
      <for from="1" to="${messages}" incr="1" var="k">
        <request subst="true">
          <websocket type="message"${o.mode.ack === "no_ack" ? ' ack="no_ack"' : ""}>%%_frame%%</websocket>
        </request>
        <thinktime value="${(intervalMs / 1000).toFixed(3)}" random="false"/>
      </for>
      </transaction>
      <thinktime value="${(w.drainMs / 1000).toFixed(3)}" random="false"/>
    </session>
  </sessions>
</tsung>
`;
}

interface Sample {
  count: number;
  mean: number;
  stddev: number;
  max: number;
  min: number;
}

interface TsungStats {
  counters: Record<string, number>;
  /** Over the whole run: "from beginning" mean and count, the largest max and smallest min. */
  samples: Record<string, Sample>;
  /** The first dump's request samples (count, mean), before any later dump. */
  firstRequest?: { count: number; mean: number; counters: Record<string, number> };
}

/** tsung.log: counters are `name interval total`; samples `name count mean stddev max min meanfb countfb`. */
export function parseTsungLog(text: string): TsungStats {
  const counters: Record<string, number> = {};
  const samples: Record<string, Sample> = {};
  let dumps = 0;
  let firstRequest: TsungStats["firstRequest"];
  for (const line of text.split("\n")) {
    if (line.startsWith("# stats: dump")) {
      if (dumps === 1 && samples.request && !firstRequest)
        firstRequest = {
          count: samples.request.count,
          mean: samples.request.mean,
          counters: { ...counters },
        };
      dumps++;
      continue;
    }
    const m = /^stats: (\S+) (.*)$/.exec(line.trim());
    if (!m) continue;
    const name = m[1] as string;
    const f = (m[2] as string).split(" ").map(Number);
    if (f.length === 2) counters[name] = f[1] as number;
    else if (f.length >= 7) {
      const [count, mean, stddev, max, min, meanfb, countfb] = f as [
        number,
        number,
        number,
        number,
        number,
        number,
        number,
      ];
      const prev = samples[name];
      // The interval's own numbers plus what came before (meanfb/countfb: before this interval).
      const total = countfb + count;
      samples[name] = {
        count: total,
        mean: total > 0 ? (meanfb * countfb + mean * count) / total : 0,
        stddev,
        max: Math.max(prev?.max ?? 0, max),
        min: count > 0 ? Math.min(prev?.min ?? Number.POSITIVE_INFINITY, min) : (prev?.min ?? min),
      };
    }
  }
  return { counters, samples, ...(firstRequest ? { firstRequest } : {}) };
}

/**
 * tsung-fullstats.log (backend="fullstats"): blocks `{sample,request,[v1,v2,…]}` in time order.
 * The first `skip` request samples are the connects' handshakes (all before any send).
 */
export function fullstatsPercentiles(
  file: string,
  skip: number,
): { p50: number; p99: number; max: number; samples: number } | undefined {
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, "utf8");
  const values: number[] = [];
  const re = /\{sample,request,\s*\[([^\]]*)\]\}/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text))
    for (const v of (m[1] as string).split(",")) if (v.trim() !== "") values.push(Number(v));
  const sends = values.slice(skip).sort((a, b) => a - b);
  if (sends.length === 0) return undefined;
  const at = (p: number) =>
    Math.round((sends[Math.floor((p * (sends.length - 1)) / 100)] as number) * 10) / 10;
  return { p50: at(50), p99: at(99), max: at(100), samples: sends.length };
}

export async function runTsung(o: {
  target: Target;
  workload: Workload;
  users: FramedUser[];
  dir: string;
  setupTimeoutMs: number;
  mode: TsungMode;
  log: (line: string) => void;
}): Promise<PeerRow> {
  const tsung = ensureTsung(o.log);
  const w = o.workload;
  mkdirSync(o.dir, { recursive: true });
  const csv = path.join(o.dir, "users.csv");
  // The frame is the envelope's JSON: no ';' in it (ids, base64 and x's), so ';' delimits.
  writeFileSync(
    csv,
    `${o.users.map((u) => `${u.userID};${u.token};${Math.round(u.offsetMs)};${u.frame.toString("utf8")}`).join("\n")}\n`,
  );
  const conf = path.join(o.dir, "direct-chat.xml");
  const readyFile = path.join(o.dir, "ready");
  const goFile = path.join(o.dir, "go");
  writeFileSync(
    conf,
    tsungConfig({
      target: o.target,
      workload: w,
      csv,
      readyFile,
      goFile,
      goPolls: Math.ceil((o.setupTimeoutMs + 30_000) / 50),
      mode: o.mode,
    }),
  );
  const logDir = path.join(o.dir, "log");
  mkdirSync(logDir, { recursive: true });
  const epmdBefore = epmdDaemons();
  const m = await measureChild({
    command: tsung,
    // -l: logs under the bench's folder, not ~/.tsung; -n: no web GUI on :8091.
    args: ["-n", "-f", conf, "-l", logDir, "start"],
    cwd: o.dir,
    env: { ...process.env, HOME: o.dir },
    readyFile,
    readyCount: w.users,
    goFile,
    windowMs: w.durationMs + w.drainMs,
    readyTimeoutMs: o.setupTimeoutMs,
    exitGraceMs: 60_000,
    // Started only after Tsung's first stats dump (10 s in): that dump then holds the connects'
    // handshakes alone, which is how they come out of the request mean below.
    readyAlso: () => firstDumpWritten(logDir),
  }).finally(() => stopNewEpmd(epmdBefore));
  writeFileSync(path.join(o.dir, "stdout.txt"), m.stdout);
  writeFileSync(path.join(o.dir, "stderr.txt"), m.stderr);
  const runDirs = existsSync(logDir) ? readdirSync(logDir) : [];
  const runLog = runDirs.length > 0 ? path.join(logDir, runDirs.sort().at(-1) as string, "tsung.log") : "";
  const stats = runLog && existsSync(runLog) ? parseTsungLog(readFileSync(runLog, "utf8")) : undefined;
  const c = stats?.counters ?? {};
  const request = stats?.samples.request;
  const handshakes = c.websocket_succ ?? 0;
  // With ack=parse every send is a request sample, and so is each connect's handshake. The
  // handshakes all fall before the start instant: when the first dump holds them alone, they
  // come out of the mean exactly; otherwise the mean below still has them in it.
  let sent = c.request_noack ?? 0;
  let sendMean: number | undefined;
  let handshakesOut = false;
  const ack = o.mode.ack;
  if (ack === "parse" && request) {
    sent = Math.max(0, request.count - handshakes);
    const first = stats?.firstRequest;
    if (first && first.count === handshakes && sent > 0) {
      sendMean = (request.mean * request.count - first.mean * first.count) / sent;
      handshakesOut = true;
    } else sendMean = request.mean;
  }
  const errors: Record<string, number> = {};
  for (const [k, v] of Object.entries(c)) if (k.startsWith("error_")) errors[k] = v;
  if (m.exitCode !== 0) errors[`exit ${m.exitCode}`] = 1;
  if (!stats) errors["no tsung.log"] = 1;
  const sends = stats?.samples.tr_sends;
  const { intervalMs } = perUser(w);
  const runPath = runDirs.length > 0 ? path.join(logDir, runDirs.sort().at(-1) as string) : "";
  const full =
    o.mode.fullstats && runPath
      ? fullstatsPercentiles(path.join(runPath, "tsung-fullstats.log"), handshakes)
      : undefined;
  const latencies: PeerRow["latencies"] = {};
  if (ack === "parse" && request && sendMean !== undefined)
    latencies["send→next frame"] = full
      ? { p50: full.p50, p99: full.p99, max: full.max, mean: Math.round(sendMean * 10) / 10 }
      : { mean: Math.round(sendMean * 10) / 10, max: request.max, min: request.min };
  return {
    tool: `Tsung 1.7.0 (websocket, ${ack}${o.mode.fullstats ? ", fullstats" : ""})`,
    target: o.target.name,
    path: "ws",
    intendedRate: w.rate,
    sent,
    received: null,
    // A transaction round each user's sends: its mean length is how long one user took for them all.
    sendSeconds: sends ? Math.max(w.durationMs, sends.mean) / 1000 : null,
    windowCpuSeconds: m.windowCpuSeconds,
    totalCpuSeconds: m.totalCpuSeconds,
    peakRssBytes: m.peakRssBytes,
    latencies,
    latencyNote: full
      ? `request time = send → the next frame on that socket (the ack, or a push from the peer); percentiles only from backend="fullstats" (every sample written to tsung-fullstats.log and read after the run as tsung_percentile.pl reads it; it held ${full.samples} of the ${sent} send samples${full.samples < sent ? ": the last ones before Tsung exits were not written" : ""})`
      : ack === "parse"
        ? `request time = send → the next frame on that socket (whatever it is: the ack, or a push from the peer); tsung.log gives per 10 s a mean, stddev, max and min, no percentiles${handshakesOut ? "" : " (this mean still includes the connects' handshakes)"}; max/min include the handshakes`
        : "none: with ack=no_ack Tsung times nothing (it counts request_noack); with ack=parse it times send → next frame (a mean, stddev, max, min per 10 s; percentiles only with backend=fullstats), and its cadence then waits on the server",
    errors,
    notes: [
      `${m.readyAtStart} of ${w.users} users connected when the start was given; bytes sent ${c.size_sent ?? "?"}, received ${c.size_rcv ?? "?"} (Tsung counts bytes, not frames); websocket handshakes ok ${c.websocket_succ ?? "?"}`,
      `each user's cadence is send + thinktime ${intervalMs.toFixed(0)} ms (a closed loop per user)`,
    ],
    artifacts: o.dir,
  };
}
