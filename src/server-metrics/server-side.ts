import type { ServerSide } from "../report/results-schema.js";
import { errorMessage } from "../util/errors.js";
import {
  awaitScrapeAfter,
  type BookKind,
  type ClientBooks,
  readServerBooks,
  type ServerWindowStart,
} from "./server-books.js";
import { readServerResources } from "./server-resources.js";

export type ServerSideResult = ServerSide | { unavailable: string };

/**
 * The server's side of one measured phase, opened at an idle instant before the schedule and
 * read after the drain: `open` waits for Prometheus to scrape once (the baseline), `close`
 * waits for one more and reads books and resources over the window. Never fails the run: a
 * Prometheus that cannot answer leaves `{ unavailable: why }` in the results.
 */
export async function openServerWindow(
  prometheus: string | undefined,
  why: string | undefined,
  onWait: (line: string) => void,
): Promise<ServerWindowStart | { unavailable: string }> {
  if (why) return { unavailable: why };
  if (!prometheus)
    return {
      unavailable: "this stack names no Prometheus (an external stack: set stack.external.prometheus)",
    };
  try {
    return await awaitScrapeAfter(prometheus, Date.now(), onWait);
  } catch (err) {
    return { unavailable: errorMessage(err) };
  }
}

/** Which books a driver's messages are in: OpenIM's for the OpenIM drivers, the legacy pipeline's for `legacy`. */
export function bookKindOf(driver: string): BookKind | undefined {
  if (driver === "legacy") return "legacy";
  if (driver === "openim" || driver === "openim-direct" || driver === "official-sdk") return "openim";
  return undefined;
}

export async function closeServerWindow(
  start: ServerWindowStart | { unavailable: string },
  clients: ClientBooks,
  kind: BookKind,
  onWait: (line: string) => void,
): Promise<ServerSideResult> {
  if ("unavailable" in start) return start;
  try {
    const books = await readServerBooks(start, Date.now(), clients, kind, onWait);
    const resources = await readServerResources(
      start.prometheus,
      start.startSec,
      Date.parse(books.window.end) / 1000,
      books.window.scrapeIntervalSec,
    );
    return { ...books, resources };
  } catch (err) {
    return { unavailable: errorMessage(err) };
  }
}
