// The gateway container's entrypoint. Its config, first found of:
// - GATEWAY_CONFIG_JSON: what `cutover up --stack docker` passes. An environment variable, not a
//   mounted file, because under rootless Docker or Podman the container's user is another uid on
//   the host and cannot read the 0600 file cutover writes (and a world-readable one would expose
//   the JWT key on the host);
// - /etc/cutover-gateway/gateway.json, when a folder holding one is mounted there;
// - the GATEWAY_* variables (a plain `docker compose up`), with a JWT key made fresh at every start.
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

/** A 0600 file of the container's own user, in a fresh folder: the gateway reads its config from a file. */
function writeOwnConfig(json) {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "gateway-")), "gateway.json");
  writeFileSync(file, json, { mode: 0o600 });
  return file;
}

const file = env.GATEWAY_CONFIG_JSON
  ? writeOwnConfig(env.GATEWAY_CONFIG_JSON)
  : existsSync(mounted)
    ? mounted
    : writeOwnConfig(`${JSON.stringify(configFromEnv(), null, 2)}\n`);
process.argv.push("--config", file);
await import(new URL("../dist/reference/gateway/src/main.js", import.meta.url).href);
