import type { EventEmitter } from "node:events";

/** cutover's stand-in for Electron's main-process IPC (only what @openim/electron-client-sdk uses). */
export declare const ipcMain: {
  handle(channel: string, listener: (event: unknown, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
  /** Stand-in only: calls the handler as a renderer's ipcRenderer.invoke would. */
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
};
export declare const powerMonitor: EventEmitter;
export declare const isStandIn: true;
/** The SDK's constructor takes a WebContents; the stand-in needs only these members. */
export interface WebContents {
  send(channel: string, ...args: unknown[]): void;
  isDestroyed(): boolean;
  once(event: "destroyed", listener: () => void): unknown;
}
