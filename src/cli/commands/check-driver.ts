import { existsSync } from "node:fs";
import path from "node:path";
import { Command, Option } from "commander";
import pc from "picocolors";
import type { CutoverConfig } from "../../config/schema.js";
import { CONTRACT_CHECKS, type ContractCheck, runDriverContract } from "../../drivers/driver-contract.js";
import { DRIVER_NAMES, DRIVERS, driversHelp } from "../../drivers/registry.js";
import { createDriver, type DriverSpec } from "../../load/driver-factory.js";
import { parseDuration } from "../../load/duration.js";
import { driverSpec } from "../../load/settings.js";
import { acquireStack } from "../../stack/acquire.js";
import { type StackEndpoints, stackEndpointsSchema } from "../../stack/endpoints.js";
import { STACK_KINDS } from "../../stack/stack-kinds.js";
import { CutoverError, EXIT } from "../../util/errors.js";
import { formatSeconds } from "../../util/time.js";
import { resolveStackOptions, type StackOptions, withStackOptions } from "../options.js";
import { progressPrinter } from "../progress-printer.js";

type CheckDriverFlags = StackOptions & { timeout: string };

export function checkDriverCommand(): Command {
  return withStackOptions(new Command("check-driver"))
    .description(
      "check that a driver keeps the contract the load engine counts on: accounts, login, send → ack, one " +
        "delivery in order from the right sender, group fan-out, silence after disconnect, refusals",
    )
    .argument(
      "<driver>",
      "a built-in, a driver named in the config's `drivers`, or a path to a driver module",
    )
    .addOption(
      new Option(
        "--stack <kind>",
        "the stack whose endpoints the driver gets (built-ins: default the config's; a module: none unless given)",
      ).choices(STACK_KINDS),
    )
    .option("--timeout <d>", "bound of each check: a driver that has not answered by then fails it", "10s")
    .addHelpText(
      "after",
      `
A built-in driver runs on the stack in the run dir (one is started, and stopped after, if none is up).
A team's module gets no stack unless --stack is given: its own stack is where its options say; a
module that reads the endpoints without --stack fails the "driver" check saying so.

Drivers:
${driversHelp()}

Examples:
  $ cutover check-driver openim                        the bundled driver on the local stack
  $ cutover check-driver mychat -c cutover.config.ts   a team's driver named in the config's drivers
  $ cutover check-driver ./my-driver.ts --stack local  a module that also needs OpenIM's endpoints

Exit codes: 0 every check passed, 1 a check failed, 2 usage, 3 stack failed to start.`,
    )
    .action(async (driver: string, flags: CheckDriverFlags) => {
      await checkDriver(driver, flags);
    });
}

/** The spec `--driver` would resolve to, refused with exit 2 when it names nothing that exists. */
function resolveDriver(name: string, config: CutoverConfig): DriverSpec {
  const spec = driverSpec(name, config.drivers);
  if (spec.module && !existsSync(spec.module))
    throw new CutoverError(`driver module ${spec.module} not found`, EXIT.usage);
  if (!spec.module && !DRIVERS[spec.name]) {
    const named = Object.keys(config.drivers);
    throw new CutoverError(
      `unknown driver "${name}" (built in: ${DRIVER_NAMES.join(", ")}${named.length ? `; in the config: ${named.join(", ")}` : ""}; or a path to a module)`,
      EXIT.usage,
    );
  }
  return spec;
}

/**
 * Endpoints for a module checked without a stack: its own stack is in its options, so it should
 * not read these; one that does is told, by the field it read, to pass --stack.
 */
function noStackEndpoints(driver: string): StackEndpoints {
  const endpoints = {} as StackEndpoints;
  for (const key of Object.keys(stackEndpointsSchema.shape))
    Object.defineProperty(endpoints, key, {
      enumerable: true,
      get: () => {
        throw new Error(
          `${driver} read endpoints.${key}, but no stack was acquired: add --stack local (or docker, external)`,
        );
      },
    });
  return endpoints;
}

const NAME_WIDTH = Math.max(...CONTRACT_CHECKS.map((n) => n.length));

function printCheck(c: ContractCheck): void {
  const mark = c.skipped ? pc.yellow("-") : c.ok ? pc.green("✓") : pc.red("✗");
  const detail = c.skipped ? `skipped: ${c.detail}` : c.detail;
  const time = c.ms > 0 ? ` ${pc.dim(formatSeconds(c.ms))}` : "";
  process.stdout.write(`${mark} ${c.check.padEnd(NAME_WIDTH)} — ${c.ok ? detail : pc.red(detail)}${time}\n`);
}

async function checkDriver(name: string, flags: CheckDriverFlags): Promise<void> {
  const { config, runDir } = await resolveStackOptions(flags);
  const timeoutMs = parseDuration(flags.timeout);
  if (timeoutMs === undefined || timeoutMs <= 0)
    throw new CutoverError(`--timeout ${flags.timeout}: expected a duration such as 10s`, EXIT.usage);
  const spec = resolveDriver(name, config);
  const stack =
    !spec.module || flags.stack ? await acquireStack(config, runDir, progressPrinter()) : undefined;
  try {
    const where = stack ? `on the ${stack.endpoints.stack} stack` : "without a stack (--stack gives it one)";
    const module = spec.module ? ` (${path.relative(process.cwd(), spec.module) || spec.module})` : "";
    process.stderr.write(pc.dim(`checking ${name}${module} ${where}\n`));
    const began = performance.now();
    const endpoints = stack?.endpoints ?? noStackEndpoints(name);
    const checks = await runDriverContract(() => createDriver(spec, endpoints), {
      timeoutMs,
      onCheck: printCheck,
    });
    const failed = checks.filter((c) => !c.ok).map((c) => c.check);
    if (failed.length > 0)
      throw new CutoverError(
        `${name} breaks the driver contract: ${failed.length} of ${checks.length} checks failed (${failed.join(", ")})`,
        EXIT.failures,
      );
    const skipped = checks.filter((c) => c.skipped).length;
    process.stdout.write(
      `${pc.green("✓")} ${name} keeps the driver contract: ${checks.length - skipped}/${checks.length} checks pass${skipped ? `, ${skipped} skipped` : ""} ${pc.dim(formatSeconds(performance.now() - began))}\n`,
    );
  } finally {
    await stack?.release();
  }
}
