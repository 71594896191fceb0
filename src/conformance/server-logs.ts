import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from "node:fs";
import path from "node:path";
import type { CaseResult, ServerError } from "./results.js";

/**
 * The server's own view of a run: every ERROR or panic OpenIM, the gateway or the MongoDB
 * stand-in logged while the suites ran. A case can pass while the server logged a failure;
 * that must show in the report. Only bytes appended after the snapshot are read.
 */

export type LogSnapshot = Map<string, number>;

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

function appendedText(file: string, from: number): string {
  const size = statSync(file).size;
  if (size <= from) return "";
  const fd = openSync(file, "r");
  try {
    const length = Math.min(size - from, 8 * 1024 * 1024);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, from);
    return buffer.toString("utf8");
  } finally {
    closeSync(fd);
  }
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: OpenIM colours its log levels
const ANSI = /\u001b\[[0-9;]*m/g;
const OPENIM_ENTRY =
  /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3})\s+(ERROR|PANIC|FATAL|DPANIC)\s+\[PID:\d+\]\s+(\S+)/;
const PLAIN_FAILURE = /\bpanic:|\bfatal error:|Exception\b|\bERROR\b|\bSEVERE\b/;

/**
 * The cases running when a line was logged. Suites run in parallel, so several may be; the
 * most recently started comes first, as the likeliest cause.
 */
function caseAt(ms: number, cases: CaseResult[]): string | undefined {
  const running = cases
    .filter((c) => c.startedAt !== undefined && ms >= c.startedAt && ms <= c.startedAt + c.durationMs + 50)
    .sort((a, b) => (b.startedAt ?? 0) - (a.startedAt ?? 0));
  return running.length > 0 ? running.map((c) => c.fullName).join(" — or — ") : undefined;
}

export function collectServerErrors(
  runDir: string,
  snapshot: LogSnapshot,
  cases: CaseResult[],
): ServerError[] {
  const errors: ServerError[] = [];
  for (const file of logFiles(runDir)) {
    const text = appendedText(file, snapshot.get(file) ?? 0).replace(ANSI, "");
    if (!text) continue;
    const fromOpenImLog = path.basename(path.dirname(file)) === "openim";
    for (const line of text.split("\n")) {
      if (fromOpenImLog) {
        const m = OPENIM_ENTRY.exec(line);
        if (!m) continue;
        const at = new Date(m[1]!.replace(" ", "T")).getTime();
        errors.push({
          process: m[3]!,
          at: m[1],
          line: line.replace(/\s+/g, " ").slice(0, 600),
          duringCase: caseAt(at, cases),
        });
      } else if (PLAIN_FAILURE.test(line)) {
        errors.push({ process: path.basename(file, ".log"), line: line.trim().slice(0, 600) });
      }
    }
  }
  return errors;
}
