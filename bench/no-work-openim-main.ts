import { parseArgs } from "node:util";
import { startNoWorkServer } from "./no-work-openim.js";

/**
 * The no-work OpenIM server as its own process, so whatever is pointed at it (cutover, the
 * bare script, Artillery, Tsung) pays only its own CPU. Prints one JSON line
 * `{"wsURL":…,"apiURL":…,"port":…}` on stdout, then serves until SIGTERM/SIGINT.
 *
 *   node --import tsx bench/no-work-openim-main.ts [--port 0] [--max-minutes 60]
 */
const { values: args } = parseArgs({
  options: { port: { type: "string", default: "0" }, "max-minutes": { type: "string", default: "60" } },
});
const server = await startNoWorkServer({ port: Number(args.port) });
process.stdout.write(
  `${JSON.stringify({ wsURL: server.wsURL, apiURL: server.apiURL, port: server.port })}\n`,
);
const stop = () => {
  void server.close().then(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
// Bounded: a server nobody stops leaves by itself.
setTimeout(() => process.exit(0), Number(args["max-minutes"]) * 60_000).unref();
