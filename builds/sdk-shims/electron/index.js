// cutover's stand-in for the two parts of Electron's main process that
// @openim/electron-client-sdk touches (its lib/index.js: ipcMain.handle/removeHandler,
// powerMonitor.on/removeListener). The SDK registers one IPC handler through which every
// SDK method is called; `ipcMain.invoke(channel, ...args)` (not an Electron API) calls it
// as a renderer's `ipcRenderer.invoke` would. SDK events leave through the webContents
// object the host passes to the SDK, so nothing else is needed here.
const { EventEmitter } = require("node:events");

const handlers = new Map();

const ipcMain = {
  handle(channel, listener) {
    if (handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    handlers.set(channel, listener);
  },
  removeHandler(channel) {
    handlers.delete(channel);
  },
  /** Stand-in only: what `ipcRenderer.invoke(channel, ...args)` does in a real Electron app. */
  invoke(channel, ...args) {
    const listener = handlers.get(channel);
    if (!listener) return Promise.reject(new Error(`No handler registered for '${channel}'`));
    return Promise.resolve().then(() => listener({ sender: undefined }, ...args));
  },
};

const powerMonitor = new EventEmitter();

module.exports = { ipcMain, powerMonitor, isStandIn: true };
