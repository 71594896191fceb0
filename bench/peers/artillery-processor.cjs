/**
 * Artillery processor for bench/peers (CommonJS: Artillery 2.0.21 `require`s it).
 *
 * Artillery's ws engine `send` step always sends text (its payload goes through
 * lodash's toString before ws.send), and OpenIM's gateway reads requests only from binary
 * frames (a text frame is a ping to it). So the send is a function step that writes the
 * user's pre-built SendMsg frame as binary on the socket the engine opened (context.ws),
 * and counts it as the engine's own send step does (websocket.messages_sent).
 *
 * Per virtual user: waitForStart (says it is connected, waits for the start instant the bench
 * gives once every user is, then sleeps to its own offset after it),
 * a loop of sendFrame + think, a drain think, report (one JSON line appended to a file).
 */
const { appendFileSync, readFileSync } = require("node:fs");

const READY_FILE = process.env.PEERS_READY_FILE;
const GO_FILE = process.env.PEERS_GO_FILE;
const REPORT_FILE = process.env.PEERS_REPORT_FILE;

/** The start instant the bench writes once every user is connected: one poller for all users, bounded. */
let startAt;
function startInstant() {
  startAt ??= new Promise((resolve) => {
    let polls = 0;
    const timer = setInterval(() => {
      let text = "";
      try {
        text = readFileSync(GO_FILE, "utf8").trim();
      } catch {
        // not there yet
      }
      if (text !== "" || ++polls > 6000) {
        clearInterval(timer);
        resolve(text !== "" ? Number(text) : Date.now());
      }
    }, 50);
  });
  return startAt;
}

function waitForStart(context, _ee, next) {
  const v = context.vars;
  v.$peer = { frame: Buffer.from(v.frame, "base64"), sent: 0, first: 0, last: 0, received: 0 };
  v.$peer.connectedAt = Date.now();
  const peer = v.$peer;
  // Counted only, never read: whether the frames come back (acks and pushes) at all.
  context.ws.on("message", () => {
    peer.received++;
  });
  appendFileSync(READY_FILE, "ready\n");
  startInstant().then((at) => setTimeout(next, Math.max(0, at + Number(v.offsetMs) - Date.now())));
}

function sendFrame(context, ee, next) {
  const peer = context.vars.$peer;
  const now = Date.now();
  if (peer.first === 0) peer.first = now;
  peer.last = now;
  peer.sent++;
  ee.emit("counter", "websocket.messages_sent", 1);
  ee.emit("rate", "websocket.send_rate");
  context.ws.send(peer.frame, { binary: true }, (err) => {
    if (err) ee.emit("error", err.message || String(err));
    next();
  });
}

function report(context, _ee, next) {
  const peer = context.vars.$peer;
  if (REPORT_FILE)
    appendFileSync(
      REPORT_FILE,
      `${JSON.stringify({
        index: Number(context.vars.index),
        sent: peer.sent,
        received: peer.received,
        first: peer.first,
        last: peer.last,
        connectedAt: peer.connectedAt,
      })}\n`,
    );
  next();
}

module.exports = { waitForStart, sendFrame, report };
