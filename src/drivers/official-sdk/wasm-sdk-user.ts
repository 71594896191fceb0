import type { Browser, BrowserContext, Page } from "playwright-core";
import { nowUs } from "../../metrics/clock.js";
import { CHROMIUM_FLAGS, CHROMIUM_PATH, chromiumAvailable } from "../../util/chromium.js";
import { errorMessage } from "../../util/errors.js";
import type { HostCommand, HostMessage } from "./host-protocol.js";
import { SdkUser } from "./sdk-user.js";
import { startWasmServer, type WasmServer } from "./wasm-server.js";

/** Page epoch ms (performance.timeOrigin + now()) → the shared monotonic clock, µs. */
const epochToUs = (() => {
  const offsetUs = nowUs() - Math.round((performance.timeOrigin + performance.now()) * 1000);
  return (epochMs: number) => Math.round(epochMs * 1000) + offsetUs;
})();

type PageMessage =
  | { kind: "event"; name: string; errCode: number; errMsg: string; data: unknown; atMs: number }
  | ({ kind: "reply"; atMs: number } & (
      | { id: number; ok: true; data: unknown }
      | { id: number; ok: false; error: { errCode: number; errMsg: string } }
    ));

function toHostMessage(m: PageMessage): HostMessage {
  const atUs = epochToUs(m.atMs);
  if (m.kind === "event") return { ...m, atUs };
  if (!m.ok) return { kind: "reply", id: m.id, ok: false, error: m.error, atUs };
  const data = m.data as { startedMs?: number; ackedMs?: number } | null;
  // sendText's timings come back as page epoch ms; the protocol speaks the shared clock.
  if (data && typeof data.startedMs === "number" && typeof data.ackedMs === "number") {
    const { startedMs, ackedMs, ...rest } = data;
    return {
      kind: "reply",
      id: m.id,
      ok: true,
      data: { ...rest, startedUs: epochToUs(startedMs), ackedUs: epochToUs(ackedMs) },
      atUs,
    };
  }
  return { kind: "reply", id: m.id, ok: true, data: m.data, atUs };
}

/**
 * Headless Chromium serving wasm-SDK users: one browser, one context (own storage, own
 * IndexedDB) and page per user, the page and the SDK's files from a local HTTP server.
 */
export class WasmBrowser {
  private constructor(
    private readonly browser: Browser,
    private readonly server: WasmServer,
    /** From launch() to Chromium being up, ms. */
    readonly launchMs: number,
  ) {}

  static async launch(): Promise<WasmBrowser> {
    if (!chromiumAvailable())
      throw new Error(`no Chromium at ${CHROMIUM_PATH}: run \`cutover doctor --fix\` (Debian's chromium)`);
    const started = performance.now();
    const { chromium } = await import("playwright-core");
    const server = await startWasmServer();
    try {
      const browser = await chromium.launch({
        executablePath: CHROMIUM_PATH,
        headless: true,
        args: CHROMIUM_FLAGS,
        timeout: 30_000,
      });
      return new WasmBrowser(browser, server, performance.now() - started);
    } catch (err) {
      await server.close();
      throw err;
    }
  }

  /** Opens a fresh context and the user page; resolves once the page has loaded the SDK module. */
  async newUser(userID: string): Promise<WasmSdkUser> {
    const context = await this.browser.newContext();
    try {
      const page = await context.newPage();
      const user = new WasmSdkUser(userID, context, page);
      await page.exposeFunction("cutoverEvent", (json: string) =>
        user.fromPage(JSON.parse(json) as PageMessage),
      );
      const started = performance.now();
      await page.goto(`${this.server.origin}/`);
      await page.waitForFunction(
        () => (globalThis as { cutoverReady?: boolean }).cutoverReady === true,
        null,
        {
          timeout: 15_000,
        },
      );
      user.pageLoadMs = performance.now() - started;
      return user;
    } catch (err) {
      await context.close().catch(() => undefined);
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.browser.close().catch(() => undefined);
    await this.server.close();
  }
}

/** A user of the wasm SDK in its own browser context. */
export class WasmSdkUser extends SdkUser {
  readonly kind = "wasm" as const;
  /** From navigation to the page having imported the SDK module, ms (the wasm compiles at login). */
  pageLoadMs = 0;
  private readonly consoleTail: string[] = [];

  constructor(
    userID: string,
    private readonly context: BrowserContext,
    private readonly page: Page,
  ) {
    super(userID);
    page.on("console", (m) => {
      this.consoleTail.push(`${m.type()}: ${m.text()}`.slice(0, 300));
      if (this.consoleTail.length > 20) this.consoleTail.shift();
    });
    page.on("pageerror", (err) => this.consoleTail.push(`pageerror: ${err.message}`));
    page.on("crash", () => this.failAll("the page crashed"));
  }

  /** The page's last console lines (for failure messages). */
  get console(): string[] {
    return [...this.consoleTail];
  }

  /** Called by the page's exposed `cutoverEvent`. */
  fromPage(m: PageMessage): void {
    this.receive(toHostMessage(m));
  }

  protected transmit(cmd: HostCommand): void {
    if (cmd.op === "exit") return;
    this.page
      .evaluate(
        (c) => (globalThis as unknown as { cutoverCommand(c: unknown): Promise<unknown> }).cutoverCommand(c),
        cmd,
      )
      .then(
        (reply) => this.receive(toHostMessage(reply as PageMessage)),
        (err: unknown) =>
          this.receive({
            kind: "reply",
            id: cmd.id,
            ok: false,
            error: { errCode: -1, errMsg: errorMessage(err) },
            atUs: nowUs(),
          }),
      );
  }

  protected async shutdown(): Promise<void> {
    await this.context.close().catch(() => undefined);
  }
}
