import {
  createRestClient,
  getUserToken,
  OpenImError,
  OpenImWsClient,
  registerUsers,
} from "../protocol/index.js";
import { errorMessage } from "../util/errors.js";
import type { StackEndpoints } from "./endpoints.js";

/** One line of `cutover status`: a component, whether it works, and what was seen. */
export interface HealthCheck {
  name: string;
  ok: boolean;
  detail: string;
  /** The target does not offer this part (external stacks): listed, not failed. */
  skipped?: boolean;
}

const STATUS_USER = "cutover_status_probe";
/** Linux: a platform no suite uses, so a status check never kicks a test's session. */
export const STATUS_PLATFORM = 7;

/** Runs one probe; its message becomes the detail of a failed check. */
export async function check(name: string, probe: () => Promise<string>): Promise<HealthCheck> {
  try {
    return { name, ok: true, detail: await probe() };
  } catch (err) {
    return { name, ok: false, detail: errorMessage(err) };
  }
}

/** Registers the status probe user if needed and opens an authenticated WebSocket on the stack's wsURL. */
export async function websocketLogin(endpoints: StackEndpoints, adminToken: string): Promise<string> {
  const rest = createRestClient({ baseUrl: endpoints.openimApi, connections: 1 });
  try {
    await registerUsers(rest, adminToken, [{ userID: STATUS_USER, nickname: "cutover status" }]).catch(
      (err: unknown) => {
        if (!(err instanceof OpenImError && err.errCode === 1102)) throw err; // 1102: registered already
      },
    );
    const { token } = await getUserToken(rest, adminToken, STATUS_USER, STATUS_PLATFORM);
    const client = await OpenImWsClient.connect({
      wsUrl: endpoints.wsURL,
      userID: STATUS_USER,
      token,
      platformID: STATUS_PLATFORM,
      handshakeTimeoutMs: 3000,
      heartbeat: false,
      reconnect: false,
    });
    await client.close();
    return `authenticated WebSocket accepted at ${endpoints.wsURL}`;
  } finally {
    await rest.close();
  }
}
