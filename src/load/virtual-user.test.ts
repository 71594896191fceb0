import { describe, expect, test } from "vitest";
import type { ChatDriver, DriverSession } from "../drivers/driver.js";
import { nowUs } from "../metrics/clock.js";
import { emptyCounters } from "../metrics/counters.js";
import { DeliveryLedger } from "./delivery-ledger.js";
import { Operation, UserState, type VuHost } from "./virtual-user.js";

const SEND_MS = 6;

/** A session whose every send is acked SEND_MS later: the only latency there is. */
function slowAckSession(): DriverSession {
  return {
    userID: "u0",
    connect: async () => {},
    send: () => new Promise((resolve) => setTimeout(() => resolve({ clientMsgID: "c" }), SEND_MS)),
    disconnect: async () => {},
  };
}

function operation(): { op: Operation; acks: number[] } {
  const acks: number[] = [];
  const counters = emptyCounters();
  const host: VuHost = {
    run: "r",
    driver: {} as ChatDriver,
    ledger: new DeliveryLedger(
      "r",
      () => counters,
      () => {},
    ),
    counters,
    errors: {},
    record: (metric, us) => {
      if (metric === "ack") acks.push(us / 1000);
    },
    connectionChanged: () => {},
  };
  const state = new UserState({
    index: 0,
    user: { userID: "u0", password: "", platformID: 1 },
    sender: true,
  });
  state.session = slowAckSession();
  state.connected = true;
  host.ledger.openStream(0, "peer", [1]);
  return { op: new Operation(host, state, nowUs()), acks };
}

describe("think time inside an operation", () => {
  test("send, sleep(300), send: the second ack is timed from the end of the sleep, not across it", async () => {
    const { op, acks } = operation();
    const target = { key: "peer", recipient: { userID: "u1" } };
    await op.sendText(target);
    await op.sleep(300);
    await op.sendText(target);
    expect(acks).toHaveLength(2);
    // Each ack took ~6 ms; with the sleep timed as latency the second would read ~306 ms.
    for (const ms of acks) {
      expect(ms).toBeGreaterThanOrEqual(SEND_MS - 1);
      expect(ms).toBeLessThan(150);
    }
  });
});
