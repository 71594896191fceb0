/** What a provider reports while it works; the CLI decides how (or whether) to show it. */
export type StackEvent =
  | { kind: "step"; name: string; detail?: string }
  | { kind: "done"; name: string; ms: number; detail?: string }
  | { kind: "info"; message: string };

export type ProgressSink = (event: StackEvent) => void;

export const silent: ProgressSink = () => {};

/** Runs `work` as a named step, reporting its start and how long it took. */
export async function step<T>(
  sink: ProgressSink,
  name: string,
  work: () => Promise<T>,
  detail?: (value: T) => string | undefined,
): Promise<T> {
  sink({ kind: "step", name });
  const started = performance.now();
  const value = await work();
  sink({ kind: "done", name, ms: performance.now() - started, detail: detail?.(value) });
  return value;
}
