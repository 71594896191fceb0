import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import type { GatewayConfigInput } from "../../../reference/gateway/src/config.js";
import type { CutoverConfig } from "../../config/schema.js";
import type { LocalPorts } from "./ports-plan.js";
import { REDIS_PASSWORD } from "./services.js";

/** The reference gateway's config for one run: fresh JWT key and admin password, this run's ports. */
export function writeGatewayConfig(
  file: string,
  config: CutoverConfig,
  ports: LocalPorts,
  admin: { userID: string; password: string },
): void {
  const gateway: GatewayConfigInput = {
    listen: { host: "127.0.0.1", port: ports.gateway },
    openimApi: `http://127.0.0.1:${ports.openimApi}`,
    wsURL: `ws://127.0.0.1:${ports.nginx}/msg_gateway`,
    redis: `redis://:${REDIS_PASSWORD}@127.0.0.1:${ports.redis}`,
    adminSecret: config.openim.adminSecret,
    adminUserID: config.openim.adminUserID,
    jwt: { secret: randomBytes(32).toString("base64url") },
    admins: [admin],
  };
  writeFileSync(file, `${JSON.stringify(gateway, null, 2)}\n`, { mode: 0o600 });
}
