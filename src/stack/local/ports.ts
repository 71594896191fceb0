import net from "node:net";

/**
 * Ports browsers refuse (Chromium's and Firefox's "unsafe port" lists, 1024 and up); the
 * wasm SDK runs in Chromium against this stack, so none of these may be handed out.
 */
const BROWSER_UNSAFE_PORTS = new Set([
  1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697,
  10080,
]);

export function isPortFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * Picks `count` distinct free ports at or above `base`, below the kernel's ephemeral
 * range (32768+) so that outgoing connections never hold a port the stack is about to bind.
 * msggateway binds *:<port>, so a port must be free on all interfaces, not only loopback.
 */
export async function pickFreePorts(count: number, base?: number): Promise<number[]> {
  let port = base ?? 20000 + Math.floor(Math.random() * 600) * 20;
  const picked: number[] = [];
  while (picked.length < count) {
    if (port > 32700) throw new Error(`no ${count} free ports found between ${base ?? 20000} and 32700`);
    if (!BROWSER_UNSAFE_PORTS.has(port) && (await isPortFree(port, "0.0.0.0"))) picked.push(port);
    port += 1;
  }
  return picked;
}
