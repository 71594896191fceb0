import net from "node:net";
import { describe, expect, test } from "vitest";
import { isPortFree, pickFreePorts } from "./ports.js";

describe("port picking", () => {
  test("picks distinct free ports below the ephemeral range, skipping a port already in use", async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const busy = await pickFreePorts(1, 25000);
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(busy[0], "0.0.0.0", resolve));
    try {
      const ports = await pickFreePorts(5, busy[0]);
      expect(new Set(ports).size).toBe(5);
      expect(ports).not.toContain(busy[0]);
      for (const p of ports) {
        expect(p).toBeLessThan(32768);
        expect(await isPortFree(p)).toBe(true);
      }
    } finally {
      holder.close();
      server.close();
    }
  });

  test("never hands out a port browsers refuse (10080)", async () => {
    const ports = await pickFreePorts(3, 10079);
    expect(ports).not.toContain(10080);
  });
});
