/** What a cutover config file or a team's own driver imports from "cutover". */
export { defineConfig } from "./config/define.js";
export type { CutoverConfig, CutoverConfigInput } from "./config/schema.js";
export type {
  ChatDriver,
  DriverSession,
  DriverUser,
  InboundMessage,
  Recipient,
  SendAck,
} from "./drivers/driver.js";
export type { StackEndpoints } from "./stack/endpoints.js";
