import type { DriverFactory } from "./driver.js";

/**
 * The drivers cutover ships, by the name `--driver` takes. Each lives in its own module and is
 * loaded only when asked for (the official SDK drags in a native library). A new driver is its
 * module plus one line here; a team's own driver needs no line at all: `--driver ./my-driver.ts`.
 */
export const DRIVERS: Record<string, { describe: string; load: () => Promise<DriverFactory> }> = {
  openim: {
    describe: "the app's path: gateway DH + JWT login → imToken → OpenIM's WebSocket through nginx",
    load: async () => (await import("./openim-driver.js")).openimDriver,
  },
  "openim-direct": {
    describe: "OpenIM alone: tokens from the admin API, WebSocket straight to the message gateway",
    load: async () => (await import("./openim-direct-driver.js")).openimDirectDriver,
  },
  legacy: {
    describe: "the pipeline being retired: chat service → RabbitMQ → Redis pub/sub → websocket service",
    load: async () => (await import("./legacy-driver.js")).legacyDriver,
  },
  "official-sdk": {
    describe: "OpenIM's official native SDK, one process per user (slow; for fidelity checks)",
    load: async () => (await import("./official-sdk-driver.js")).createDriver,
  },
};

export const DRIVER_NAMES = Object.keys(DRIVERS);

/** For --help: every built-in driver with what it drives, and how to bring one's own. */
export function driversHelp(indent = "  "): string {
  const width = Math.max(...DRIVER_NAMES.map((n) => n.length));
  return [
    ...DRIVER_NAMES.map((n) => `${indent}${n.padEnd(width)}  ${DRIVERS[n]?.describe ?? ""}`),
    `${indent}${"<path>".padEnd(width)}  a team's own driver module (its createDriver export); check it with cutover check-driver`,
  ].join("\n");
}
