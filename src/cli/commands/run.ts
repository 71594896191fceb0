import path from "node:path";
import { Command } from "commander";
import pc from "picocolors";
import { checkDelivery, type DeliveryCheck } from "../../run/delivery-check.js";
import { describeEnvironment, type RunEnvironment } from "../../run/environment.js";
import { newResultsDir, writeJsonAtomic } from "../../run/results-file.js";
import { checkLocalHealth, type HealthCheck } from "../../stack/local/health.js";
import { runDirLayout } from "../../stack/local/layout.js";
import { downLocal, upLocal } from "../../stack/local/local-stack.js";
import { readState } from "../../stack/local/state.js";
import { CutoverError, EXIT } from "../../util/errors.js";
import { resolveStackOptions, type StackOptions, withStackOptions } from "../options.js";
import { progressPrinter } from "../progress-printer.js";
import { printEndpoints } from "./up.js";

interface RunResults {
  kind: "cutover-run";
  version: 1;
  status: "running" | "passed" | "failed" | "interrupted";
  startedAt: string;
  finishedAt?: string;
  environment?: RunEnvironment;
  health?: HealthCheck[];
  delivery?: DeliveryCheck;
}

export function runCommand(): Command {
  return withStackOptions(new Command("run"))
    .description(
      "the main job: bring the local stack up (or use the one already up in the run dir), check every component,\n" +
        "prove a message goes sender → nginx → OpenIM → receiver, write results JSON, and stop what it started",
    )
    .option("--out <dir>", "where results folders are written", "results")
    .option("--keep", "leave a stack this run started up afterwards")
    .action(async (opts: StackOptions & { out: string; keep?: boolean }) => {
      const { config, runDir } = await resolveStackOptions(opts);
      if (config.stack.kind !== "local")
        throw new CutoverError(`--stack ${config.stack.kind} is not available yet`, EXIT.usage);
      const startedAt = new Date();
      const dir = newResultsDir(opts.out, startedAt, "run");
      const file = path.join(dir, "results.json");
      const results: RunResults = {
        kind: "cutover-run",
        version: 1,
        status: "running",
        startedAt: startedAt.toISOString(),
      };
      const save = () => writeJsonAtomic(file, results);
      save();
      process.stderr.write(`${pc.dim(`results: ${file}`)}\n`);

      let startedHere = false;
      const finish = async (status: RunResults["status"]) => {
        results.status = status;
        results.finishedAt = new Date().toISOString();
        save();
        if (startedHere && !opts.keep) await downLocal(runDir);
      };
      const onSignal = () => {
        void finish("interrupted").finally(() => process.exit(130));
      };
      process.once("SIGINT", onSignal);
      try {
        const up = await upLocal({ config, runDir, progress: progressPrinter() });
        startedHere = up.kind === "started";
        results.environment = describeEnvironment(up.endpoints);
        save();
        printEndpoints(up.endpoints, process.stderr);

        const state = readState(runDirLayout(runDir).state);
        results.health = state ? await checkLocalHealth(state) : [];
        save();
        for (const c of results.health)
          process.stdout.write(
            `${c.ok ? pc.green("✓") : pc.red("✗")} ${c.name.padEnd(32)} ${pc.dim(c.detail)}\n`,
          );

        results.delivery = await checkDelivery(up.endpoints);
        process.stdout.write(
          `${results.delivery.ok ? pc.green("✓") : pc.red("✗")} ${"message delivery".padEnd(32)} ${pc.dim(results.delivery.detail)}\n`,
        );
        const failed = results.health.filter((c) => !c.ok).length + (results.delivery.ok ? 0 : 1);
        await finish(failed === 0 ? "passed" : "failed");
        process.stdout.write(
          `${failed === 0 ? pc.green("passed") : pc.red(`${failed} failed`)} — results in ${file}\n`,
        );
        if (failed > 0) process.exitCode = EXIT.failures;
      } catch (err) {
        await finish("failed");
        throw err;
      } finally {
        process.off("SIGINT", onSignal);
      }
    });
}
