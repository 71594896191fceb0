import { createReadStream, existsSync, readdirSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { redact } from "../util/redact.js";
import type { CaseResult, ServerError, ServerErrorGroup } from "./results.js";

/**
 * The server's own view of a run: every ERROR or panic OpenIM, the gateway or the MongoDB
 * stand-in logged while the suites ran. A case can pass while the server logged a failure;
 * that must show in the report. Everything appended after the snapshot is read, streamed line
 * by line: at OpenIM's debug level one conformance run writes tens of MB.
 */

export type LogSnapshot = Map<string, number>;

export interface ServerErrorScan {
  /** In log time order; at most MAX_KEPT_ERRORS, the groups count them all. */
  errors: ServerError[];
  /** One per distinct message, unexplained first. */
  groups: ServerErrorGroup[];
}

/** A report shows the line; an OpenIM error chain alone runs to several KiB. */
const LINE_LIMIT = 4096;
const FIELD_LIMIT = 1024;
const MESSAGE_LIMIT = 500;
/** Bounds memory for an entry with a runaway continuation (a huge stack trace). */
const ENTRY_LIMIT = 64 * 1024;
/** A server failing on every request must not turn the results file into a copy of its log. */
const MAX_KEPT_ERRORS = 5000;
/** A case's own request may be logged after its last await returns (async RPC logging, msgtransfer). */
const PROVOKE_SLACK_MS = 500;
/** Timer granularity around a case's start and end. */
const DURING_SLACK_MS = 50;

function logFiles(runDir: string): string[] {
  const logs = path.join(runDir, "logs");
  if (!existsSync(logs)) return [];
  const top = readdirSync(logs)
    .filter((f) => f.endsWith(".log") && f !== "build.log" && !f.startsWith("kafka-format"))
    .map((f) => path.join(logs, f));
  const openimDir = path.join(logs, "openim");
  const openim = existsSync(openimDir) ? readdirSync(openimDir).map((f) => path.join(openimDir, f)) : [];
  return [...top, ...openim];
}

export function snapshotLogs(runDir: string): LogSnapshot {
  return new Map(logFiles(runDir).map((f) => [f, statSync(f).size]));
}

// ---------------------------------------------------------------------------------------------
// Reading: complete lines only

const NEWLINE = 0x0a;

async function endsWithNewline(file: string, offset: number): Promise<boolean> {
  const handle = await open(file, "r");
  try {
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, offset);
    return byte[0] === NEWLINE;
  } finally {
    await handle.close();
  }
}

/**
 * The lines written since `from`, streamed. The first is dropped when the snapshot fell inside a
 * line (its start was logged before the run), the last when a server is still writing it.
 */
async function* appendedLines(file: string, from: number): AsyncGenerator<string> {
  const size = statSync(file).size;
  // Smaller than at the snapshot: truncated or replaced, so all of it is new.
  const start = size < from ? 0 : from;
  if (size <= start) return;
  let skipFirst = start > 0 && !(await endsWithNewline(file, start - 1));
  const lastComplete = await endsWithNewline(file, size - 1);
  const input = createReadStream(file, { start, end: size - 1, encoding: "utf8" });
  let pending: string | undefined;
  for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    if (skipFirst) {
      skipFirst = false;
      continue;
    }
    if (pending !== undefined) yield pending;
    pending = line;
  }
  if (pending !== undefined && lastComplete) yield pending;
}

// ---------------------------------------------------------------------------------------------
// Entries: a log line plus the lines that continue it

// biome-ignore lint/suspicious/noControlCharactersInRegex: OpenIM colours its log levels
const ANSI = /\u001b\[[0-9;]*m/g;
const ENTRY_START = /^\[?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}/;
/** OpenIM's version stamp ends in a newline, so each entry's first line ends inside `[v3.8.3`. */
const UNCLOSED_BRACKET = /\[[^\]\t]*$/;
/** Java's exception and trace lines under the entry that logged it, Go's goroutines under a panic. */
const STACK_CONTINUATION =
  /^(?:\s+\S|Caused by: |\.\.\. \d+ more|goroutine \d+ \[|[\w$.]+(?:Exception|Error|Throwable)(?::|$))/;
/** The second half of an OpenIM entry whose first half was logged before the snapshot. */
const ORPHAN_OPENIM_TAIL = /^\]\s*\t/;

function continues(entry: string, line: string): boolean {
  if (ENTRY_START.test(line)) return false;
  return UNCLOSED_BRACKET.test(entry) || STACK_CONTINUATION.test(line);
}

function appendLine(entry: string, line: string): string {
  return entry.length < ENTRY_LIMIT ? `${entry}\n${line}` : entry;
}

async function* entriesOf(lines: AsyncIterable<string>): AsyncGenerator<string> {
  let entry: string | undefined;
  for await (const raw of lines) {
    const line = raw.replace(ANSI, "");
    if (entry !== undefined && continues(entry, line)) {
      entry = appendLine(entry, line);
      continue;
    }
    // Blank lines sit inside Go panics, between the message and the goroutines.
    if (line.trim() === "") continue;
    if (entry !== undefined) yield entry;
    entry = ORPHAN_OPENIM_TAIL.test(line) ? undefined : line;
  }
  // An OpenIM entry whose second line is still being written is left for the next scan.
  if (entry !== undefined && !UNCLOSED_BRACKET.test(entry)) yield entry;
}

// ---------------------------------------------------------------------------------------------
// Parsing

interface LogEntry {
  process: string;
  at?: string;
  level?: string;
  caller?: string;
  message: string;
  fields?: Record<string, string>;
  /** The entry on one line, unredacted and whole: what `provokes` substrings are matched against. */
  text: string;
}

/** zap's console encoder as OpenIM configures it: tab-separated, padded, key/values as JSON last. */
const OPENIM_HEAD = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3})\t\s*([A-Z]+)\s*\t/;
const OPENIM_FAILURE_LEVELS = new Set(["ERROR", "DPANIC", "PANIC", "FATAL"]);
const PID = /^\[PID:\d+\]$/;
const CALLER = /^\[(\S+:\d+)\]$/;

const oneLine = (text: string) => text.replace(/\s+/g, " ").trim();

function keyValues(json: string): Record<string, string> | undefined {
  try {
    const parsed: unknown = JSON.parse(json);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
    return Object.fromEntries(
      Object.entries(parsed).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
    );
  } catch {
    // Cut at ENTRY_LIMIT: the line still holds what was read.
    return undefined;
  }
}

/** The part of the line after the header: `[version] [caller] message {key/values}`. */
function openImBody(tokens: string[]): Pick<LogEntry, "caller" | "message" | "fields"> {
  let i = 0;
  let caller: string | undefined;
  for (; i < tokens.length && /^\[.*\]$/.test(tokens[i] ?? ""); i += 1) {
    caller = CALLER.exec(tokens[i] ?? "")?.[1] ?? caller;
  }
  const last = tokens.at(-1);
  const hasFields = tokens.length > i && last?.startsWith("{") === true;
  return {
    caller,
    message: tokens.slice(i, hasFields ? -1 : undefined).join(" "),
    fields: hasFields && last ? keyValues(last) : undefined,
  };
}

/** `time LEVEL [PID:n] process [version] [caller] message {key/values}`, as zap pads and tabs it. */
function parseOpenImEntry(entry: string, fileProcess: string): LogEntry {
  // The version's newline is the only line break inside an OpenIM entry.
  const tokens = entry
    .replace(/\n/g, "")
    .split("\t")
    .map((t) => t.trim())
    .filter((t) => t !== "");
  const [at, level, ...rest] = tokens;
  if (PID.test(rest[0] ?? "")) rest.shift();
  const named = rest[0] !== undefined && !/^[[{]/.test(rest[0]);
  const process = named ? (rest.shift() ?? fileProcess) : fileProcess;
  return { process, at, level, ...openImBody(rest), text: tokens.join(" ") };
}

const PLAIN_FAILURE = /\bpanic:|\bfatal error:|Exception\b|\bERROR\b|\bSEVERE\b/;
const PLAIN_TIME = /^\[?(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)\]?\s*/;
const PLAIN_LEVEL = /^(ERROR|SEVERE|FATAL|PANIC|WARN(?:ING)?|INFO|DEBUG|TRACE)\b:?\s*/;

function plainLevel(entry: string, written: string | undefined): string {
  if (written) return written;
  if (/\bpanic:/.test(entry)) return "PANIC";
  return /\bfatal error:/.test(entry) ? "FATAL" : "ERROR";
}

/** A failure line of the gateway, the Mongo stand-in (slf4j), Kafka, etcd or a Go panic on stderr. */
function parsePlainEntry(entry: string, process: string): LogEntry | undefined {
  if (!PLAIN_FAILURE.test(entry)) return undefined;
  const first = entry.split("\n", 1)[0] ?? "";
  const time = PLAIN_TIME.exec(first);
  const afterTime = time ? first.slice(time[0].length) : first;
  const level = PLAIN_LEVEL.exec(afterTime);
  const message = oneLine(level ? afterTime.slice(level[0].length) : afterTime);
  return {
    process,
    at: time?.[1],
    level: plainLevel(entry, level?.[1]),
    message: message || oneLine(first),
    text: oneLine(entry),
  };
}

/** An OpenIM entry at a failure level, or a failure line of another log; undefined for the rest. */
function failureOf(entry: string, fileProcess: string, openimOnly: boolean): LogEntry | undefined {
  const head = OPENIM_HEAD.exec(entry);
  if (head)
    return OPENIM_FAILURE_LEVELS.has(head[2] ?? "") ? parseOpenImEntry(entry, fileProcess) : undefined;
  // OpenIM's own files hold nothing but its entries; anything else there is a fragment.
  return openimOnly ? undefined : parsePlainEntry(entry, fileProcess);
}

/** Local time as OpenIM writes it, or ISO with a zone as slf4j and Kafka do. */
function timeOf(at: string | undefined): number | undefined {
  if (!at) return undefined;
  const iso = at
    .replace(" ", "T")
    .replace(",", ".")
    .replace(/([+-]\d{2})(\d{2})$/, "$1:$2");
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
}

// ---------------------------------------------------------------------------------------------
// Redaction

const CREDENTIAL_KEY = /(?:token|secret|password)$/i;

const bounded = (text: string, limit: number) =>
  text.length > limit ? `${text.slice(0, limit - 1)}…` : text;

function redactFields(fields: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(fields).map(([k, v]) => [
      k,
      CREDENTIAL_KEY.test(k) ? "<redacted>" : bounded(redact(v), FIELD_LIMIT),
    ]),
  );
}

// ---------------------------------------------------------------------------------------------
// Attribution to cases

interface CaseWindow {
  fullName: string;
  start: number;
  end: number;
  provokes: string[];
}

function caseWindows(cases: CaseResult[]): CaseWindow[] {
  return cases
    .flatMap((c) =>
      c.startedAt === undefined
        ? []
        : [
            {
              fullName: c.fullName,
              start: c.startedAt,
              end: c.startedAt + c.durationMs,
              provokes: c.provokes ?? [],
            },
          ],
    )
    .sort((a, b) => b.start - a.start);
}

/** Suites run in parallel, so several cases may be running; the most recently started comes first. */
function casesRunningAt(ms: number, windows: CaseWindow[]): string | undefined {
  const running = windows.filter((w) => ms >= w.start && ms <= w.end + DURING_SLACK_MS);
  return running.length > 0 ? running.map((w) => w.fullName).join(" — or — ") : undefined;
}

/** The case that says it provokes this entry and was running when it was logged. */
function provokingCase(ms: number, text: string, windows: CaseWindow[]): string | undefined {
  return windows.find(
    (w) =>
      ms >= w.start - DURING_SLACK_MS &&
      ms <= w.end + PROVOKE_SLACK_MS &&
      w.provokes.some((p) => p !== "" && text.includes(p)),
  )?.fullName;
}

function toServerError(entry: LogEntry, windows: CaseWindow[]): ServerError {
  const ms = timeOf(entry.at);
  const duringCase = ms === undefined ? undefined : casesRunningAt(ms, windows);
  const explainedBy = ms === undefined ? undefined : provokingCase(ms, entry.text, windows);
  // Undefined properties are left out of the results file by JSON.stringify.
  return {
    process: entry.process,
    at: entry.at,
    line: bounded(redact(entry.text), LINE_LIMIT),
    duringCase,
    level: entry.level,
    caller: entry.caller,
    message: bounded(redact(entry.message), MESSAGE_LIMIT),
    fields: entry.fields && redactFields(entry.fields),
    explainedBy,
  };
}

// ---------------------------------------------------------------------------------------------
// Grouping by message

const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
/** Any word with a digit in it: ids, counts, ports, operationIDs (`cutover_9a65213c8ca6_g`), times. */
const VOLATILE_WORD = /[\w.:/@+-]*\d[\w.:/@+-]*/g;

/** The message with what changes from one occurrence to the next normalised away. */
function messageKey(message: string): string {
  return oneLine(message.replace(UUID, "#").replace(VOLATILE_WORD, "#")).slice(0, 300);
}

interface GroupTally {
  group: ServerErrorGroup;
  firstMs: number;
  lastMs: number;
}

function tally(groups: Map<string, GroupTally>, error: ServerError): void {
  const message = error.message || error.line;
  const key = messageKey(message);
  const ms = timeOf(error.at);
  const known = groups.get(key);
  const tallied = known ?? {
    group: {
      messageKey: key,
      message,
      count: 0,
      processes: [],
      example: error.line,
      provokedCount: 0,
      unexplainedCount: 0,
    },
    firstMs: Number.POSITIVE_INFINITY,
    lastMs: Number.NEGATIVE_INFINITY,
  };
  const g = tallied.group;
  g.count += 1;
  if (error.explainedBy) g.provokedCount += 1;
  else g.unexplainedCount += 1;
  if (!g.processes.includes(error.process)) g.processes.push(error.process);
  if (ms !== undefined && ms < tallied.firstMs) [tallied.firstMs, g.first] = [ms, error.at];
  if (ms !== undefined && ms > tallied.lastMs) [tallied.lastMs, g.last] = [ms, error.at];
  groups.set(key, tallied);
}

function finishGroups(groups: Map<string, GroupTally>): ServerErrorGroup[] {
  return [...groups.values()]
    .map(({ group }) => ({ ...group, processes: [...group.processes].sort() }))
    .sort(
      (a, b) =>
        b.unexplainedCount - a.unexplainedCount || b.count - a.count || a.message.localeCompare(b.message),
    );
}

// ---------------------------------------------------------------------------------------------

const processOfFile = (file: string) => path.basename(file).replace(/\.log$/, "");

/** Several files (and processes) interleave in time; a line without a time goes last. */
function inTimeOrder(errors: ServerError[]): ServerError[] {
  const ms = errors.map((e) => timeOf(e.at) ?? Number.POSITIVE_INFINITY);
  return errors
    .map((e, i) => ({ e, at: ms[i] ?? Number.POSITIVE_INFINITY }))
    .sort((a, b) => a.at - b.at)
    .map(({ e }) => e);
}

/**
 * Every failure logged since the snapshot, with the cases running then and the case that
 * provokes it on purpose (its `provokes` matched the line), grouped by message.
 */
export async function collectServerErrors(
  runDir: string,
  snapshot: LogSnapshot,
  cases: CaseResult[],
): Promise<ServerErrorScan> {
  const windows = caseWindows(cases);
  const errors: ServerError[] = [];
  const groups = new Map<string, GroupTally>();
  for (const file of logFiles(runDir)) {
    const openimOnly = path.basename(path.dirname(file)) === "openim";
    for await (const entry of entriesOf(appendedLines(file, snapshot.get(file) ?? 0))) {
      const failure = failureOf(entry, processOfFile(file), openimOnly);
      if (!failure) continue;
      const error = toServerError(failure, windows);
      tally(groups, error);
      if (errors.length < MAX_KEPT_ERRORS) errors.push(error);
    }
  }
  return { errors: inTimeOrder(errors), groups: finishGroups(groups) };
}
