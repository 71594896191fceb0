/**
 * How each legacy service runs as a process: start, print one line when listening, stop
 * cleanly on SIGTERM/SIGINT, and on a startup error print one line and exit 1.
 */
export function runService(
  name: string,
  start: () => Promise<{ address: string; stop: () => Promise<void> }>,
): void {
  start()
    .then(({ address, stop }) => {
      process.stdout.write(`${name} listening on ${address}\n`);
      let stopping = false;
      const onSignal = () => {
        if (stopping) return;
        stopping = true;
        const force = setTimeout(() => process.exit(0), 3000);
        force.unref();
        stop()
          .catch((err: unknown) => process.stderr.write(`${name}: stopping: ${describe(err)}\n`))
          .finally(() => process.exit(0));
      };
      process.once("SIGTERM", onSignal);
      process.once("SIGINT", onSignal);
    })
    .catch((err: unknown) => {
      process.stderr.write(`${name}: ${describe(err)}\n`);
      process.exit(1);
    });
}

/** A dependency the service cannot work without went away: say so and exit, so `cutover status` sees it. */
export function fatal(name: string, what: string): (err?: unknown) => void {
  return (err) => {
    process.stderr.write(`${name}: ${what}${err ? `: ${describe(err)}` : ""}\n`);
    process.exit(1);
  };
}

export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
