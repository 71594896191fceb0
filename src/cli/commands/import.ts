import { Command } from "commander";
import pc from "picocolors";
import { importK6, writeImported } from "../../k6/import-k6.js";
import { EXIT } from "../../util/errors.js";

/** `cutover import k6 …`: k6 runs into cutover's results, so compare and report work on them. */
export function importCommand(): Command {
  const k6 = new Command("k6")
    .description(
      "k6 --out json files (one per runner, .gz too) into one cutover results.json: histograms from every raw " +
        "point, runners merged exactly, the scenario's and the script's thresholds judged on the merged run " +
        "(exit 99 when one is crossed)",
    )
    .argument("<files...>", "k6 --out json output files (k6-operator: one per runner)")
    // Nested commands do not inherit main.ts's settings: a usage error must still exit 2 through it.
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)")
    .option("--out <dir>", "where results.json is written", ".")
    .option("--scenario <name>", "the cutover scenario the run mirrors (default: the points' scenario tag)")
    .option("--driver <label>", "the label compare and reports show for this run", "k6")
    // Repeatable rather than variadic, so a threshold before the files does not swallow them.
    .option(
      "--threshold <expr>",
      "an extra threshold, cutover's syntax (e2e.p99<200ms, lost==0); repeatable",
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .action(
      async (
        files: string[],
        opts: { out: string; scenario?: string; driver: string; threshold?: string[] },
      ) => {
        const { results, warnings, runners } = await importK6({
          files,
          ...(opts.scenario ? { scenario: opts.scenario } : {}),
          driver: opts.driver,
          thresholds: opts.threshold,
          argv: process.argv.slice(2),
        });
        for (const w of warnings) process.stderr.write(`${pc.yellow("warning:")} ${w}\n`);
        const file = writeImported(opts.out, results);
        const c = results.counters;
        process.stdout.write(
          `${pc.green("✓")} ${file}: ${results.scenario.name}, ${runners} runner(s), sent ${c?.sent ?? 0}, delivered ${c?.delivered ?? 0}, lost ${c?.lost ?? 0}\n`,
        );
        for (const t of results.thresholds ?? [])
          process.stdout.write(
            `  ${t.ok ? pc.green("✓") : pc.red("✗")} ${t.expression} (actual ${t.actual ?? "none"})\n`,
          );
        if (results.status === "failed") process.exitCode = EXIT.thresholds;
      },
    );
  return new Command("import").description("bring results of other load tools into cutover").addCommand(k6);
}
