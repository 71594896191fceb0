import { existsSync, readFileSync } from "node:fs";

/**
 * The openim-server image starts with `mage start && tail -f /dev/null`; mage first runs the
 * tools named in start-config.yml, one of which refuses to go on below 1 GB of available memory.
 * The container then stays up with no OpenIM process, and its health check only says
 * "unhealthy" minutes later. The tool's own line, written to the container's stderr, says why
 * at once. Its wording is open-im-server v3.8.3(-patch.15) tools/check-free-memory/main.go:
 *   fmt.Fprintf(os.Stderr, "System available memory is less than 1GB: %.2fGB\n", availableMemoryGB)
 */
const MEMORY_SHORT = /System available memory is less than 1GB: ([\d.]+)GB/;

/** The one line a user sees when OpenIM's start script found too little memory, if the log says so. */
export function openimStartFailure(log: string): string | undefined {
  const short = MEMORY_SHORT.exec(log);
  if (!short) return undefined;
  return `OpenIM did not start: its start script found ${short[1]} GB of memory available and needs 1 GB (give Docker more memory, or stop other containers)`;
}

/**
 * Reads the openim-server log the tap writes, every `intervalMs`, and rejects with the reason as
 * soon as the start script gave up; `stop()` ends the watch (the promise then never settles).
 */
export function watchOpenImStart(
  logFile: string,
  intervalMs = 1000,
): { failed: Promise<never>; stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  const failed = new Promise<never>((_, reject) => {
    timer = setInterval(() => {
      if (!existsSync(logFile)) return;
      const reason = openimStartFailure(readFileSync(logFile, "utf8"));
      if (reason) {
        clearInterval(timer);
        reject(new Error(reason));
      }
    }, intervalMs);
    timer.unref();
  });
  // A watch that is stopped before it fires must not surface as an unhandled rejection.
  failed.catch(() => undefined);
  return { failed, stop: () => clearInterval(timer) };
}
