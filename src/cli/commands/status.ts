import { Command } from "commander";
import pc from "picocolors";
import { checkLocalHealth } from "../../stack/local/health.js";
import { runDirLayout } from "../../stack/local/layout.js";
import { readState } from "../../stack/local/state.js";
import { CutoverError, EXIT } from "../../util/errors.js";
import { resolveStackOptions, type StackOptions, withStackOptions } from "../options.js";

export function statusCommand(): Command {
  return withStackOptions(new Command("status"))
    .description("check every component of the stack for real; exit 0 only when all are healthy")
    .option("--json", "print the checks as one JSON object")
    .action(async (opts: StackOptions) => {
      const { runDir } = await resolveStackOptions(opts);
      const state = readState(runDirLayout(runDir).state);
      if (!state)
        throw new CutoverError(`no stack in ${runDir} (start one with \`cutover up\`)`, EXIT.failures);
      const checks = await checkLocalHealth(state);
      const unhealthy = checks.filter((c) => !c.ok);
      if (opts.json) {
        process.stdout.write(
          `${JSON.stringify({ healthy: unhealthy.length === 0, runDir, endpoints: state.endpoints, checks })}\n`,
        );
      } else {
        for (const c of checks)
          process.stdout.write(
            `${c.ok ? pc.green("✓") : pc.red("✗")} ${c.name.padEnd(32)} ${pc.dim(c.detail)}\n`,
          );
      }
      if (unhealthy.length > 0) {
        throw new CutoverError(`unhealthy: ${unhealthy.map((c) => c.name).join(", ")}`, EXIT.failures);
      }
    });
}
