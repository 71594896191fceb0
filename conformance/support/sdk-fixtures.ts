import { afterAll, afterEach } from "vitest";
import type { SdkLoginConfig } from "../../src/drivers/official-sdk/host-protocol.js";
import { NativeSdkUser } from "../../src/drivers/official-sdk/native-sdk-user.js";
import {
  type LoginTimings,
  type SdkEvent,
  type SdkUser,
  sdkText,
} from "../../src/drivers/official-sdk/sdk-user.js";
import { WasmBrowser, type WasmSdkUser } from "../../src/drivers/official-sdk/wasm-sdk-user.js";
import type { StackFixtures, TestUser } from "./fixtures.js";
import { asTuple, type Tuple } from "./lists.js";

/**
 * Official-SDK users for the `official-sdk` suite: fresh accounts (admin API), each a real
 * SDK instance — the native core in its own process, or the wasm build in its own
 * Chromium context — logged in and past OnConnectSuccess + OnSyncServerFinish.
 */

/** Platforms the SDK users log in on: desktop Linux for the native core, Web for the wasm build. */
export const NATIVE_PLATFORM = 7;
export const WASM_PLATFORM = 5;

export interface LoggedInSdkUser {
  sdk: SdkUser;
  account: TestUser;
  timings: LoginTimings;
}

export interface SdkFixtures {
  /** Fresh accounts, each in its own native-SDK process, logged in: `const [a, b] = await sdk.native(2)`. */
  native<N extends number>(count: N): Promise<Tuple<LoggedInSdkUser, N>>;
  /** Fresh accounts, each in its own Chromium context running the wasm SDK, logged in. */
  wasm<N extends number>(count: N): Promise<Tuple<LoggedInSdkUser, N>>;
  /** A native-SDK process for `userID`, not logged in (for the login cases). */
  nativeProcess(userID: string): Promise<NativeSdkUser>;
  loginConfig(account: TestUser): SdkLoginConfig;
  /** The browser wasm() uses, once one was launched (for its launch time). */
  browser(): Promise<WasmBrowser> | undefined;
  /** Closes every SDK user a case opened. */
  cleanup(): Promise<void>;
  /** Closes the browser too (once, after the suite). */
  close(): Promise<void>;
}

export function sdkFixtures(stack: StackFixtures): SdkFixtures {
  const open: SdkUser[] = [];
  let browser: Promise<WasmBrowser> | undefined;
  const loginConfig = (account: TestUser): SdkLoginConfig => ({
    userID: account.userID,
    token: account.token,
    platformID: account.platformID,
    apiAddr: stack.endpoints.openimApi,
    wsAddr: stack.endpoints.openimWs,
  });
  const loggedIn = async <N extends number>(
    accounts: TestUser[],
    count: N,
    start: (userID: string) => Promise<SdkUser>,
    timeoutMs: number,
  ): Promise<Tuple<LoggedInSdkUser, N>> => {
    const users = await Promise.all(
      accounts.map(async (account) => {
        const sdk = await start(account.userID);
        open.push(sdk);
        return { sdk, account, timings: await sdk.login(loginConfig(account), timeoutMs) };
      }),
    );
    return asTuple(users, count);
  };
  return {
    loginConfig,
    async nativeProcess(userID) {
      const sdk = await NativeSdkUser.start(userID);
      open.push(sdk);
      return sdk;
    },
    async native(count) {
      return loggedIn(
        await stack.newUsers(count, NATIVE_PLATFORM),
        count,
        (id) => NativeSdkUser.start(id),
        15_000,
      );
    },
    async wasm(count) {
      browser ??= WasmBrowser.launch();
      const b = await browser;
      return loggedIn(
        await stack.newUsers(count, WASM_PLATFORM),
        count,
        (id): Promise<WasmSdkUser> => b.newUser(id),
        30_000,
      );
    },
    browser: () => browser,
    async cleanup() {
      await Promise.all(open.splice(0).map((u) => u.close()));
    },
    async close() {
      await Promise.all(open.splice(0).map((u) => u.close()));
      if (browser) await (await browser.catch(() => undefined))?.close();
    },
  };
}

/**
 * The official-SDK fixtures for a suite that already has `useStack()`: SDK users a case opens
 * are closed after it, the browser after the suite.
 */
export function useSdk(stack: StackFixtures): SdkFixtures {
  const sdk = sdkFixtures(stack);
  afterEach(() => sdk.cleanup());
  afterAll(() => sdk.close());
  return sdk;
}

/** A message as the SDK hands it to the app (MessageItem, the fields a case reads). */
export interface AppMessage {
  clientMsgID: string;
  serverMsgID: string;
  sendID: string;
  recvID: string;
  groupID: string;
  sessionType: number;
  contentType: number;
  seq: number;
  textElem?: { content: string };
}

/**
 * The message with `clientMsgID` from the user's next OnRecvNewMessages batch (the only
 * event the SDK raises for new messages; OnRecvNewMessage never fires — §9), and the event.
 */
export async function nextAppMessage(
  user: SdkUser,
  match: (m: AppMessage) => boolean,
  opts: { timeoutMs?: number; after?: number } = {},
): Promise<{ message: AppMessage; event: SdkEvent }> {
  const find = (e: SdkEvent) => (Array.isArray(e.data) ? (e.data as AppMessage[]).find(match) : undefined);
  const event = await user.waitFor("OnRecvNewMessages", {
    match: (e) => find(e) !== undefined,
    timeoutMs: opts.timeoutMs ?? 10_000,
    after: opts.after,
  });
  const message = find(event);
  // waitFor matched this very event on `find`, so the message is there.
  if (!message) throw new Error("OnRecvNewMessages matched, yet holds no matching message");
  return { message, event };
}

export const textOf = (m: AppMessage) => sdkText(m);
