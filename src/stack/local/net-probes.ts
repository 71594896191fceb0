import net from "node:net";
import { request } from "undici";

/** Resolves true when something accepts TCP connections on host:port. */
export function tcpOpen(port: number, host = "127.0.0.1", timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

export async function httpGetOk(url: string, timeoutMs = 2000): Promise<boolean> {
  const res = await request(url, { method: "GET", headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  await res.body.dump();
  return res.statusCode >= 200 && res.statusCode < 300;
}

/** Redis PING over RESP with AUTH, without a client library's reconnect machinery. */
export function redisPing(port: number, password: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: "127.0.0.1" });
    let buffer = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write(`AUTH ${password}\r\nPING\r\n`));
    socket.on("data", (chunk) => {
      buffer += chunk.toString("utf8");
      if (buffer.includes("+PONG")) done(true);
      else if (buffer.startsWith("-") || buffer.includes("\r\n-")) done(false);
    });
  });
}
