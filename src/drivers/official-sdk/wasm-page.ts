/**
 * The page one wasm-SDK user lives in (one Chromium browser context each). It loads
 * @openim/wasm-client-sdk as a web app would — wasm_exec.js by <script>, the SDK's ES
 * module, its worker and its two .wasm files from the same origin (wasm-server.ts) — and
 * exposes two hooks: `cutoverCommand(cmd)` (the host protocol's commands, answered like the
 * native host's replies) and calls `cutoverEvent(json)` (exposed by Playwright) for every
 * SDK event. Times are `performance.timeOrigin + performance.now()` (epoch ms, sub-ms).
 */
export const WASM_PAGE_HTML = `<!doctype html>
<html>
<head>
<meta charset="utf-8">
<title>cutover: wasm SDK user</title>
<script src="/sdk/assets/wasm_exec.js"></script>
<script type="module">
import { getSDK, CbEvents } from "/sdk/lib/index.es.js";

const now = () => performance.timeOrigin + performance.now();
const sdk = getSDK({
  coreWasmPath: "/sdk/assets/openIM.wasm",
  sqlWasmPath: "/sdk/assets/sql-wasm.wasm",
  debug: false,
});

for (const name of new Set(Object.values(CbEvents))) {
  sdk.on(name, (e) => {
    const atMs = now();
    window.cutoverEvent(JSON.stringify({
      kind: "event",
      name,
      errCode: e?.errCode ?? 0,
      errMsg: e?.errMsg ?? "",
      data: e?.data ?? null,
      atMs,
    }));
  });
}

const failure = (err) =>
  typeof err === "object" && err !== null && "errCode" in err
    ? { errCode: Number(err.errCode), errMsg: String(err.errMsg ?? "") }
    : { errCode: -1, errMsg: String(err?.message ?? err) };

const ops = {
  async login({ config }) {
    await sdk.login({
      userID: config.userID,
      token: config.token,
      platformID: config.platformID,
      apiAddr: config.apiAddr,
      wsAddr: config.wsAddr,
      logLevel: 3,
      isLogStandardOutput: false,
    });
    return null;
  },
  async sendText({ to, text }) {
    const startedMs = now();
    const message = (await sdk.createTextMessage(text)).data;
    const sent = await sdk.sendMessage({ recvID: to.userID ?? "", groupID: to.groupID ?? "", message });
    return { message: sent.data, startedMs, ackedMs: now() };
  },
  async call({ method, args }) {
    if (typeof sdk[method] !== "function") throw { errCode: -1, errMsg: "no SDK method " + method };
    return (await sdk[method](...args))?.data ?? null;
  },
};

window.cutoverCommand = async (cmd) => {
  try {
    const data = await ops[cmd.op](cmd);
    return { kind: "reply", id: cmd.id, ok: true, data, atMs: now() };
  } catch (err) {
    return { kind: "reply", id: cmd.id, ok: false, error: failure(err), atMs: now() };
  }
};
window.cutoverReady = true;
</script>
</head>
<body>cutover wasm SDK user</body>
</html>
`;
