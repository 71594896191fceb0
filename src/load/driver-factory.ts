import type { ChatDriver } from "../drivers/driver.js";
import type { StackEndpoints } from "../stack/endpoints.js";
import { importFile } from "./module-import.js";

/**
 * How a worker gets its own driver (drivers hold sockets and pools; they cannot cross
 * threads): a built-in by name, or a team's module exporting
 * `createDriver(endpoints, options) → ChatDriver`.
 */
export interface DriverSpec {
  name: string;
  /** A file whose `createDriver` (or default export) builds the driver. */
  module?: string;
  options?: Record<string, unknown>;
}

type Factory = (
  endpoints: StackEndpoints,
  options: Record<string, unknown>,
) => ChatDriver | Promise<ChatDriver>;

const BUILTIN: Record<string, () => Promise<Factory>> = {
  openim: async () => (await import("../drivers/openim-driver.js")).openimDriver,
  "openim-direct": async () => (await import("../drivers/openim-direct-driver.js")).openimDirectDriver,
  legacy: async () => (await import("../drivers/legacy-driver.js")).legacyDriver,
  "official-sdk": async () => (await import("../drivers/official-sdk-driver.js")).createDriver,
};

export const BUILTIN_DRIVERS = Object.keys(BUILTIN);

export async function createDriver(spec: DriverSpec, endpoints: StackEndpoints): Promise<ChatDriver> {
  if (spec.module) {
    const mod = await importFile(spec.module);
    const factory = (mod.createDriver ?? mod.default) as Factory | undefined;
    if (typeof factory !== "function")
      throw new Error(`driver module ${spec.module} exports no createDriver(endpoints, options) function`);
    return factory(endpoints, spec.options ?? {});
  }
  const load = BUILTIN[spec.name];
  if (!load)
    throw new Error(
      `unknown driver "${spec.name}" (built in: ${BUILTIN_DRIVERS.join(", ")}; or a module path)`,
    );
  return (await load())(endpoints, spec.options ?? {});
}
