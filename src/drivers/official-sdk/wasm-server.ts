import { createReadStream, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { WASM_PAGE_HTML } from "./wasm-page.js";

const require = createRequire(import.meta.url);

const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".html": "text/html; charset=utf-8",
};

/** @openim/wasm-client-sdk's package directory (lib/ and assets/). */
export function wasmSdkDir(): string {
  // The package's exports map has no ./package.json; its main is lib/index.js.
  return path.resolve(path.dirname(require.resolve("@openim/wasm-client-sdk")), "..");
}

export interface WasmServer {
  /** http://127.0.0.1:<port> — the page is at `/`. */
  origin: string;
  close(): Promise<void>;
}

/**
 * Serves the wasm-SDK user page and the SDK's files (lib/, assets/) on 127.0.0.1, on a
 * port the kernel picks from its ephemeral range — above every port on the browsers'
 * unsafe-port list (the highest is 10080), so Chromium will load from it.
 */
export async function startWasmServer(): Promise<WasmServer> {
  const root = wasmSdkDir();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (url.pathname === "/" || url.pathname === "/index.html") {
      res.writeHead(200, { "content-type": TYPES[".html"], "cache-control": "no-store" });
      res.end(WASM_PAGE_HTML);
      return;
    }
    // One file name under lib/ or assets/, never starting with a dot (so never `..`).
    const m = /^\/sdk\/(?<dir>lib|assets)\/(?<name>[\w-][\w.-]*)$/.exec(url.pathname)?.groups;
    const file = m?.dir && m.name ? path.join(root, m.dir, m.name) : undefined;
    let size: number | undefined;
    try {
      const st = file ? statSync(file) : undefined;
      size = st?.isFile() ? st.size : undefined;
    } catch {
      size = undefined;
    }
    if (!file || size === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      "content-type": TYPES[path.extname(file)] ?? "application/octet-stream",
      "content-length": size,
    });
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
