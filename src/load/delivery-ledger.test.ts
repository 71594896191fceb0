import { expect, test } from "vitest";
import type { InboundMessage } from "../drivers/driver.js";
import { emptyCounters } from "../metrics/counters.js";
import { DeliveryLedger } from "./delivery-ledger.js";
import { encodeStamp, parseStamp } from "./stamp.js";

const inbound = (text: string, seq: number, conversationID = "c"): InboundMessage => ({
  conversationID,
  seq,
  sendID: "x",
  clientMsgID: "m",
  text,
  receivedAt: performance.now(),
});

test("a stamp survives the trip inside a message's text", () => {
  const s = { run: "ab12", sender: 3, target: "g1", n: 42, intendedUs: 123_456_789 };
  expect(parseStamp(`${encodeStamp(s)} hello`)).toEqual(s);
  expect(parseStamp("hello")).toBeUndefined();
});

test("the ledger: first arrival delivered, second duplicated, lower seq out of order, strangers unexpected, the rest lost", () => {
  const counters = emptyCounters();
  const recorded: string[] = [];
  const ledger = new DeliveryLedger(
    "run1",
    () => counters,
    (m) => recorded.push(m),
  );
  ledger.openStream(0, "g0", [1, 2]);
  const stamp = (n: number) => encodeStamp({ run: "run1", sender: 0, target: "g0", n, intendedUs: 1 });
  for (let i = 0; i < 3; i++) ledger.expect(0, "g0", 1);
  ledger.receive(1, inbound(stamp(0), 2));
  ledger.receive(1, inbound(stamp(0), 3)); // same message again, new seq: a duplicate
  ledger.receive(1, inbound(stamp(1), 1)); // seq went backwards
  ledger.receive(2, inbound(stamp(0), 2));
  ledger.receive(0, inbound(stamp(1), 1)); // the sender's own echo: ignored
  ledger.receive(3, inbound(stamp(1), 1)); // not a recipient
  ledger.receive(2, inbound(encodeStamp({ run: "other", sender: 0, target: "g0", n: 2, intendedUs: 1 }), 3));
  ledger.closeBooks();
  expect(counters).toMatchObject({
    sent: 3,
    expectedDeliveries: 6,
    delivered: 3,
    duplicated: 1,
    outOfOrder: 1,
    unexpected: 2,
    lost: 3,
  });
  expect(counters.delivered + counters.lost).toBe(counters.expectedDeliveries);
  expect(recorded.filter((m) => m === "e2e_last")).toHaveLength(1); // message 0 reached both
  ledger.receive(2, inbound(stamp(1), 4));
  expect(counters.late).toBe(1);
});
