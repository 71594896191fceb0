import path from "node:path";
import { Command } from "commander";
import pc from "picocolors";
import { parseDuration } from "../../load/duration.js";
import { casesToRun } from "../../resilience/fault-catalog.js";
import { type ResilienceOutcome, runResilience } from "../../resilience/run-resilience.js";
import { outputLocations } from "../../run/output-locations.js";
import { newResultsDir } from "../../run/results-file.js";
import { upLocal } from "../../stack/local/local-stack.js";
import { CutoverError, EXIT, UsageError } from "../../util/errors.js";
import { resolveStackOptions, type StackOptions, withStackOptions } from "../options.js";
import { progressPrinter } from "../progress-printer.js";

interface ResilienceFlags extends StackOptions {
  all?: boolean;
  part?: string[];
  rate: string;
  duration: string;
  at: string;
  users: string;
  out?: string;
}

function positiveInt(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} ${text}: expected a whole number > 0`);
  return n;
}

function ms(flag: string, text: string): number {
  const v = parseDuration(text);
  if (v === undefined || v <= 0) throw new UsageError(`${flag} ${text}: expected a duration such as 20s`);
  return v;
}

function line(o: ResilienceOutcome): string {
  if (o.verdict === "not-run")
    return `${pc.yellow("-")} ${o.fault.padEnd(32)} not run: ${o.notRunReason ?? ""}\n`;
  const mark = o.verdict === "kept" ? pc.green("✓") : o.verdict === "broken" ? pc.red("✗") : pc.yellow("•");
  const down =
    o.downAfter.length === 0
      ? ""
      : ` · left down: ${o.downAfter.map((d) => d.split(":")[0]).join(", ")}${o.healed ? " (healed: down, then up)" : " (NOT healed)"}`;
  return `${mark} ${o.fault.padEnd(32)} ${o.verdict.padEnd(8)} sent ${o.sent}, acked ${o.acked}, delivered ${o.delivered}, lost ${o.lost} (acked lost ≥ ${o.ackedLostAtLeast}), late ${o.late}, duplicated ${o.duplicated}, e2e max ${o.e2eMaxMs === null ? "—" : `${Math.round(o.e2eMaxMs)} ms`}${o.finished ? "" : " · the run did not finish"}${down}\n`;
}

export function resilienceCommand(): Command {
  return withStackOptions(new Command("resilience"))
    .description("strike each part of the local stack mid-load and measure what OpenIM's promise was worth")
    .option("--all", "also the slow and disruptive faults (Redis, the gateway, the msg RPC, nginx, push)")
    .option("--part <name...>", "only the faults on these parts (e.g. msgtransfer kafka)")
    .option("--rate <n>", "messages per second across all users", "20")
    .option("--duration <d>", "each fault's load run", "20s")
    .option("--at <d>", "when the fault strikes, from the start of the schedule", "5s")
    .option("--users <n>", "users (pairs)", "20")
    .option("--out <dir>", "where resilience.json, resilience.md and each run's results go")
    .addHelpText(
      "after",
      `
Each fault is a --fault any load can take (kill:<part>@10s, restart:<part>@10s+2s,
partition:<part>@10s+5s, reload:nginx@10s); here each runs with the delivery ledger on and is
judged against what OpenIM's source promises (cited in resilience.md). A fault that leaves the
stack broken is healed with \`cutover up\` before the next.

Exit codes: 0 every promise kept, 1 a promise broken or a run that did not finish, 2 usage.`,
    )
    .action(async (flags: ResilienceFlags) => {
      const cases = casesToRun(flags.all === true, flags.part);
      const rate = positiveInt("--rate", flags.rate);
      const users = positiveInt("--users", flags.users);
      const durationMs = ms("--duration", flags.duration);
      const faultAtMs = ms("--at", flags.at);
      if (faultAtMs >= durationMs)
        throw new UsageError(`--at ${flags.at} must fall inside --duration ${flags.duration}`);
      const { config, runDir } = await resolveStackOptions(flags);
      if (config.stack.kind !== "local")
        throw new UsageError(
          "cutover resilience signals the stack's processes by pid: it runs on the local stack only",
        );
      await upLocal({ config, runDir, progress: progressPrinter() });
      const outDir = flags.out
        ? path.resolve(flags.out)
        : newResultsDir(outputLocations.results, new Date(), "resilience");
      process.stderr.write(pc.dim(`${cases.length} faults, results in ${outDir}\n`));
      const results = await runResilience({
        config,
        runDir,
        outDir,
        cases,
        rate,
        users,
        durationMs,
        faultAtMs,
        onCase: (o) => process.stdout.write(line(o)),
      });
      process.stderr.write(pc.dim(`wrote ${path.join(outDir, "resilience.md")}\n`));
      const bad = results.outcomes.filter(
        (o) => o.verdict === "broken" || (o.verdict !== "not-run" && !o.finished),
      );
      if (bad.length > 0)
        throw new CutoverError(
          `promise broken or run unfinished: ${bad.map((o) => o.fault).join(", ")}`,
          EXIT.failures,
        );
    });
}
