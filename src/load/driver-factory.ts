import type { ChatDriver, DriverFactory } from "../drivers/driver.js";
import { DRIVER_NAMES, DRIVERS } from "../drivers/registry.js";
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

export async function createDriver(spec: DriverSpec, endpoints: StackEndpoints): Promise<ChatDriver> {
  if (spec.module) {
    const mod = await importFile(spec.module);
    const factory = (mod.createDriver ?? mod.default) as DriverFactory | undefined;
    if (typeof factory !== "function")
      throw new Error(`driver module ${spec.module} exports no createDriver(endpoints, options) function`);
    return factory(endpoints, spec.options ?? {});
  }
  const builtin = DRIVERS[spec.name];
  if (!builtin)
    throw new Error(`unknown driver "${spec.name}" (built in: ${DRIVER_NAMES.join(", ")}; or a module path)`);
  return (await builtin.load())(endpoints, spec.options ?? {});
}
