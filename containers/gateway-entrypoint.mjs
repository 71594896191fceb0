// The gateway container's entrypoint. With /etc/cutover-gateway/gateway.json (cutover up
// --stack docker writes one into its run dir and mounts it) the gateway runs with that file;
// without it (a plain `docker compose up`), with a config built from the GATEWAY_* variables
// and a JWT key made fresh at every start.
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const env = process.env;
const mounted = env.GATEWAY_CONFIG_FILE || "/etc/cutover-gateway/gateway.json";

function required(name) {
  const value = env[name];
  if (!value) {
    process.stderr.write(`gateway: ${name} is not set and ${mounted} does not exist\n`);
    process.exit(2);
  }
  return value;
}

/** The gateway's config (reference/gateway/src/config.ts) from the environment. */
function configFromEnv() {
  const account = env.GATEWAY_ADMIN_ACCOUNT;
  const password = env.GATEWAY_ADMIN_PASSWORD;
  return {
    listen: { host: "0.0.0.0", port: Number(env.GATEWAY_PORT || 8000) },
    openimApi: required("GATEWAY_OPENIM_API"),
    wsURL: required("GATEWAY_WS_URL"),
    redis: required("GATEWAY_REDIS"),
    adminSecret: required("GATEWAY_ADMIN_SECRET"),
    adminUserID: env.GATEWAY_ADMIN_USER_ID || "imAdmin",
    jwt: { secret: env.GATEWAY_JWT_SECRET || randomBytes(32).toString("base64url") },
    admins: account && password ? [{ userID: account, password }] : [],
  };
}

let file = mounted;
if (!existsSync(mounted)) {
  file = path.join(mkdtempSync(path.join(tmpdir(), "gateway-")), "gateway.json");
  writeFileSync(file, `${JSON.stringify(configFromEnv(), null, 2)}\n`, { mode: 0o600 });
}
process.argv.push("--config", file);
await import(new URL("../dist/reference/gateway/src/main.js", import.meta.url).href);
