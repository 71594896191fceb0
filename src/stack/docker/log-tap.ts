import { createWriteStream } from "node:fs";
import path from "node:path";
import type { Readable } from "node:stream";
import { followContainerLogs, projectContainers } from "./docker-engine.js";

/**
 * Follows every container of a compose project into <logs dir>/<service>.log, the files the
 * server-log scan reads on the local stack. The engine keeps the logs, not the run dir, so a
 * process that holds a docker stack (one it started, or one `up` left running) taps them for as
 * long as it holds it: from the container's start during `up`, from the moment it took the stack
 * otherwise, so a run scans what the engine logged during that run. Files are appended to, never
 * truncated: the scan snapshots their sizes before a run and reads what grew.
 */
export interface LogTap {
  /** Picks up containers that exist now (and, while started, every second). */
  poll(): Promise<void>;
  start(): void;
  stop(): void;
}

export function composeLogTap(projectName: string, dir: string, sinceSeconds = 0): LogTap {
  const seen = new Set<string>();
  const streams: Readable[] = [];
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const poll = async () => {
    const containers = await projectContainers(projectName).catch(() => []);
    for (const c of containers) {
      if (seen.has(c.id) || stopped) continue;
      seen.add(c.id);
      const stream = await followContainerLogs(c.id, sinceSeconds);
      stream.pipe(createWriteStream(path.join(dir, `${c.service}.log`), { flags: "a" }));
      streams.push(stream);
    }
  };
  return {
    poll,
    start() {
      stopped = false;
      void poll().catch(() => undefined);
      timer = setInterval(() => void poll().catch(() => undefined), 1000);
      // A tap never keeps cutover alive (the engine's log sockets are unref'd as well).
      timer.unref();
    },
    stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      for (const s of streams.splice(0)) s.destroy();
    },
  };
}
