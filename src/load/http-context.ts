import { randomBytes } from "node:crypto";
import { gatewayClient } from "../drivers/gateway-client.js";
import { createRestClient, getAdminToken, registerUsers, uniqueUserID } from "../protocol/index.js";
import type { StackEndpoints } from "../stack/endpoints.js";
import type { HttpContext } from "./http-load.js";

/** What an HTTP scenario may ask of the stack while it builds its request; `close` when the run ends. */
export function httpContext(endpoints: StackEndpoints): HttpContext & { close(): Promise<void> } {
  const rest = createRestClient({ baseUrl: endpoints.openimApi });
  const gateway = gatewayClient(endpoints.nginx);
  let admin: Promise<string> | undefined;
  const adminToken = () => {
    admin ??= getAdminToken(rest, endpoints.adminSecret, endpoints.adminUserID).then((t) => t.token);
    return admin;
  };
  return {
    endpoints,
    adminToken,
    async newUsers(count) {
      const ids = Array.from({ length: count }, () => uniqueUserID("http"));
      for (let i = 0; i < ids.length; i += 1000)
        await registerUsers(
          rest,
          await adminToken(),
          ids.slice(i, i + 1000).map((userID) => ({ userID })),
        );
      return ids;
    },
    async gatewayLogin() {
      const userID = uniqueUserID("http");
      const password = randomBytes(12).toString("base64url");
      await gateway.register(userID, password);
      const login = await gateway.login(userID, password, 3);
      return { userID, jwt: login.jwt };
    },
    async close() {
      await Promise.all([rest.close(), gateway.close()]);
    },
  };
}
