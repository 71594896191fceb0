import { mkdirSync } from "node:fs";
import path from "node:path";
import { Command } from "commander";
import pc from "picocolors";
import { summaryText } from "../../load/summary-text.js";
import { outputLocations } from "../../run/output-locations.js";
import { newResultsDir, writeJsonAtomic } from "../../run/results-file.js";
import { findShardFiles, mergeShards } from "../../shards/merge-results.js";
import { EXIT } from "../../util/errors.js";

/** `cutover merge`: the shards of one run (`cutover load --shard i/N`) into one results file. */
export function mergeCommand(): Command {
  return new Command("merge")
    .description(
      "add up the shards of one run (cutover load --shard i/N, one per process or pod) into one results.json:\n" +
        "HDR histograms merged exactly, interval logs too, ledgers summed (per shard and in total), thresholds\n" +
        "judged again on the merged run; compare and report read it like any other results file",
    )
    .argument(
      "<paths...>",
      "the shards' results.json files, or directories holding them (searched 4 levels deep)",
    )
    .option(
      "--out <dir>",
      "where the merged results.json and intervals.hlog are written (default results/<time>-merge-<scenario>)",
    )
    .addHelpText(
      "after",
      `
Examples:
  $ cutover merge out/shard-0 out/shard-1 out/shard-2
  $ cutover merge out/ --out out/merged && cutover report out/merged/results.json

Refused, one line and exit 2: shards of different scenarios, options or cutover versions; a missing or
duplicated shard index; a file that is not a shard's results.
Exit codes: 0 thresholds held, 99 a threshold crossed, 1 a shard failed or was interrupted, 2 usage.`,
    )
    .action((paths: string[], flags: { out?: string }) => {
      const shards = findShardFiles(paths);
      const scenario = shards[0]?.results.scenario.name ?? "run";
      const outDir = flags.out
        ? path.resolve(flags.out)
        : newResultsDir(outputLocations.results, new Date(), `merge-${scenario}`);
      mkdirSync(outDir, { recursive: true });
      const { results } = mergeShards(shards, { outDir, argv: process.argv.slice(2) });
      const file = path.join(outDir, "results.json");
      writeJsonAtomic(file, results);
      process.stdout.write(summaryText(results));
      const lines = (results.shards ?? []).map(
        (s) =>
          `  shard ${s.index}: ${s.users} users, sent ${s.sent}, delivered ${s.delivered}/${s.expectedDeliveries}, lost ${s.lost}, dropped ${s.droppedIterations} (${s.status})`,
      );
      process.stdout.write(`${pc.bold(`merged ${lines.length} shards`)}\n${lines.join("\n")}\n`);
      process.stdout.write(`${pc.dim(`results in ${file}`)}\n`);
      process.exitCode =
        results.status === "passed" ? EXIT.ok : results.status === "failed" ? EXIT.thresholds : EXIT.failures;
    });
}
