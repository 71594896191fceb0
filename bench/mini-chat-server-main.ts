import { startMiniChatServer } from "./mini-chat.js";

/** The mini chat server as its own process, so a connection-count test measures the generator's memory alone. */
const server = await startMiniChatServer();
process.stdout.write(`${server.port}\n`);
process.on("SIGTERM", () => {
  void server.close().then(() => process.exit(0));
});
// Bounded: a server nobody stops leaves by itself.
setTimeout(() => process.exit(0), 30 * 60_000).unref();
