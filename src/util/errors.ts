/**
 * Errors a user can cause or fix. The CLI prints `message` as one line and exits with
 * `exitCode` (design.md: 2 usage/config, 3 stack failed to start, 1 failures, 99 thresholds).
 */
export class CutoverError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = 1,
    /** Extra lines shown after the one-line message, e.g. the end of a failed process's log. */
    readonly details?: string,
  ) {
    super(message);
    this.name = "CutoverError";
  }
}

/** Something the user wrote (a flag, a scenario's options, a threshold) that cannot be run: exit 2. */
export class UsageError extends CutoverError {
  constructor(message: string) {
    super(message, 2);
    this.name = "UsageError";
  }
}

export const EXIT = {
  ok: 0,
  failures: 1,
  usage: 2,
  stack: 3,
  thresholds: 99,
} as const;

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
