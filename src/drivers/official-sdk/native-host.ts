/**
 * One official-SDK user: the native OpenIM core (@openim/electron-client-sdk's
 * libopenimsdk.so through koffi) in this process, driven over Node's IPC channel by
 * cutover (native-sdk-user.ts). The core keeps one login per process, hence one process
 * per user. Started by the parent only; it exits when the parent goes away.
 *
 * docs/openim-protocol.md §9: the SDK expects Electron's main process, so a stand-in
 * `electron` (builds/sdk-shims/electron) provides ipcMain/powerMonitor; SDK methods are
 * called through the IPC handler the SDK registers and its events come out of the
 * webContents.send() given to it. It reads `SdkEvent` from @openim/wasm-client-sdk, which
 * 3.8.5 exports as `CbEvents`: aliased before the SDK is required.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { errorMessage } from "../../util/errors.js";
import type { HostCommand, HostMessage, SdkFailure, SdkRecipient, SdkSentText } from "./host-protocol.js";

const require = createRequire(import.meta.url);

const METHOD_CHANNEL = "openim-sdk-ipc-methods";
const EVENT_CHANNEL = "openim-sdk-ipc-event";

interface SdkResponse {
  event: string;
  errCode: number;
  errMsg: string;
  data: unknown;
  operationID: string;
}

interface StandInElectron {
  ipcMain: { invoke(channel: string, ...args: unknown[]): Promise<unknown> };
  isStandIn?: boolean;
}

function nowUs(): number {
  const [s, ns] = process.hrtime();
  return s * 1_000_000 + Math.floor(ns / 1000);
}

function send(msg: HostMessage): void {
  process.send?.(msg);
}

function isResponse(v: unknown): v is SdkResponse {
  return typeof v === "object" && v !== null && "errCode" in v;
}

/** The .so for this machine inside the SDK package (3.8.3-patch.15.1 ships linux_x64 and linux_arm64). */
function libraryPath(): string {
  const main = require.resolve("@openim/electron-client-sdk");
  const arch = process.arch === "arm64" ? "arm64" : "x64";
  const dir = process.platform === "linux" ? `linux_${arch}` : `${process.platform}_${arch}`;
  const file = process.platform === "win32" ? "libopenimsdk.dll" : "libopenimsdk.so";
  return path.join(path.dirname(main), "..", "assets", dir, file);
}

function loadSdk(): { invoke: (method: string, ...args: unknown[]) => Promise<unknown>; version: string } {
  const electron = require("electron") as StandInElectron;
  if (!electron.isStandIn)
    throw new Error("`electron` is not cutover's stand-in (builds/sdk-shims/electron)");
  const wasm = require("@openim/wasm-client-sdk") as Record<string, unknown>;
  if (!wasm.SdkEvent) wasm.SdkEvent = wasm.CbEvents;
  const OpenIMSdkMain = require("@openim/electron-client-sdk") as new (
    lib: string,
    webContents: unknown,
  ) => unknown;
  const webContents = {
    send(channel: string, event: string, data: unknown) {
      if (channel !== EVENT_CHANNEL) return;
      const at = nowUs();
      const r = isResponse(data) ? data : { errCode: 0, errMsg: "", data };
      send({ kind: "event", name: event, errCode: r.errCode, errMsg: r.errMsg, data: r.data, atUs: at });
    },
    isDestroyed: () => false,
    once: () => webContents,
  };
  new OpenIMSdkMain(libraryPath(), webContents);
  const pkgFile = path.join(
    path.dirname(require.resolve("@openim/electron-client-sdk")),
    "..",
    "package.json",
  );
  const pkg = JSON.parse(readFileSync(pkgFile, "utf8")) as { version: string };
  return {
    invoke: (method, ...args) => electron.ipcMain.invoke(METHOD_CHANNEL, method, ...args),
    version: pkg.version,
  };
}

/** An SDK answer as data, or throws its errCode/errMsg (the IPC handler returns failures instead of throwing). */
function unwrap(res: unknown): unknown {
  if (isResponse(res)) {
    if (res.errCode !== 0) throw { errCode: res.errCode, errMsg: res.errMsg } satisfies SdkFailure;
    return res.data;
  }
  return res;
}

async function main(): Promise<void> {
  const sdk = loadSdk();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "cutover-sdk-"));
  let exiting = false;
  const exit = (code: number) => {
    if (exiting) return;
    exiting = true;
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(code);
  };
  process.on("disconnect", () => exit(0));

  const call = async (method: string, ...args: unknown[]) => unwrap(await sdk.invoke(method, ...args));

  const handlers = {
    async login(cmd: Extract<HostCommand, { op: "login" }>) {
      const c = cmd.config;
      const ok = await sdk.invoke("initSDK", {
        apiAddr: c.apiAddr,
        wsAddr: c.wsAddr,
        platformID: c.platformID,
        dataDir,
        systemType: "cutover",
        logLevel: 3,
        logFilePath: dataDir,
        isLogStandardOutput: false,
        isExternalExtensions: false,
      });
      if (ok !== true)
        throw { errCode: -1, errMsg: `initSDK failed: ${JSON.stringify(ok)}` } satisfies SdkFailure;
      return call("login", { userID: c.userID, token: c.token });
    },
    async sendText(to: SdkRecipient, text: string): Promise<SdkSentText> {
      const startedUs = nowUs();
      const message = await call("createTextMessage", text);
      const sent = await call("sendMessage", {
        recvID: "userID" in to ? to.userID : "",
        groupID: "groupID" in to ? to.groupID : "",
        message,
      });
      return { message: sent as SdkSentText["message"], startedUs, ackedUs: nowUs() };
    },
  };

  process.on("message", (raw) => {
    const cmd = raw as HostCommand;
    if (cmd.op === "exit") {
      exit(0);
      return;
    }
    const work =
      cmd.op === "login"
        ? handlers.login(cmd)
        : cmd.op === "sendText"
          ? handlers.sendText(cmd.to, cmd.text)
          : call(cmd.method, ...cmd.args);
    work.then(
      (data) => send({ kind: "reply", id: cmd.id, ok: true, data, atUs: nowUs() }),
      (err: unknown) => {
        const error: SdkFailure =
          typeof err === "object" && err !== null && "errCode" in err
            ? {
                errCode: Number((err as SdkFailure).errCode),
                errMsg: String((err as SdkFailure).errMsg ?? ""),
              }
            : { errCode: -1, errMsg: errorMessage(err) };
        send({ kind: "reply", id: cmd.id, ok: false, error, atUs: nowUs() });
      },
    );
  });
  send({ kind: "ready", atUs: nowUs(), sdkVersion: sdk.version });
}

if (!process.send) {
  process.stderr.write("native-host: start me with an IPC channel (cutover's official-sdk driver does)\n");
  process.exit(2);
}
main().catch((err: unknown) => {
  send({ kind: "fatal", message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exit(1);
});
