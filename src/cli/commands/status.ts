import { Command, Option } from "commander";
import pc from "picocolors";
import { endpointStatus, stackKindFor } from "../../stack/acquire.js";
import type { StackEndpoints } from "../../stack/endpoints.js";
import { runDirLayout } from "../../stack/local/layout.js";
import { checkLocalHealth } from "../../stack/local/local-health.js";
import { readState } from "../../stack/local/state.js";
import { STACK_KINDS } from "../../stack/stack-kinds.js";
import { CutoverError, EXIT } from "../../util/errors.js";
import { resolveStackOptions, type StackOptions, withStackOptions } from "../options.js";

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  skipped?: boolean;
}

function report(
  checks: Check[],
  json: boolean | undefined,
  extra: { runDir: string; endpoints?: StackEndpoints },
): void {
  const unhealthy = checks.filter((c) => !c.ok);
  if (json) {
    process.stdout.write(`${JSON.stringify({ healthy: unhealthy.length === 0, ...extra, checks })}\n`);
  } else {
    for (const c of checks) {
      const mark = c.skipped ? pc.yellow("-") : c.ok ? pc.green("✓") : pc.red("✗");
      process.stdout.write(
        `${mark} ${c.name.padEnd(32)} ${pc.dim(c.skipped ? `skipped: ${c.detail}` : c.detail)}\n`,
      );
    }
  }
  if (unhealthy.length > 0) {
    throw new CutoverError(`unhealthy: ${unhealthy.map((c) => c.name).join(", ")}`, EXIT.failures);
  }
}

export function statusCommand(): Command {
  return withStackOptions(new Command("status"))
    .description("check every component of the stack for real; exit 0 only when all are healthy")
    .addOption(
      new Option(
        "--stack <kind>",
        "which stack (default: the one up in the run dir, else the config's)",
      ).choices(STACK_KINDS),
    )
    .option("--json", "print the checks as one JSON object")
    .action(async (opts: StackOptions) => {
      const { config, runDir } = await resolveStackOptions(opts);
      if (stackKindFor(config, runDir) !== "local") {
        const { endpoints, checks } = await endpointStatus(config, runDir);
        report(checks, opts.json, { runDir, endpoints });
        return;
      }
      const state = readState(runDirLayout(runDir).state);
      if (!state)
        throw new CutoverError(`no stack in ${runDir} (start one with \`cutover up\`)`, EXIT.failures);
      report(await checkLocalHealth(state), opts.json, { runDir, endpoints: state.endpoints });
    });
}
