import { errorMessage } from "./errors.js";
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
}

/**
 * Polls `probe` until it returns a value other than undefined, or the deadline passes.
 * The last error is kept so a timeout can say why the thing never became ready.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  opts: { timeoutMs: number; intervalMs?: number; abort?: () => string | undefined },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError = "";
  for (;;) {
    const aborted = opts.abort?.();
    if (aborted) throw new Error(`${what}: ${aborted}`);
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = errorMessage(err);
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `${what}: not ready after ${formatSeconds(opts.timeoutMs)}${lastError ? ` (${lastError})` : ""}`,
      );
    }
    await sleep(opts.intervalMs ?? 100);
  }
}
