import path from "node:path";
import { Command, Option } from "commander";
import pc from "picocolors";
import { NEXT_STEPS_FILE } from "../../k8s/next-steps.js";
import { type RenderFlags, renderRequest } from "../../k8s/render-request.js";
import { downloadPrefix, s3ClientFromEnv, uploadDir } from "../../k8s/s3-results.js";
import { formatS3Url, parseS3Url } from "../../k8s/s3-url.js";
import { writeManifests } from "../../k8s/write-manifests.js";
import { builtinScenarios } from "../../load/scenario.js";
import { outputLocations } from "../../run/output-locations.js";
import { newResultsDir } from "../../run/results-file.js";

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** A path as short as it can be said: relative to where cutover runs when below it. */
function shown(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : file;
}

function renderCommand(): Command {
  return new Command("render")
    .description(
      "write the manifests that run a scenario as N shards: an Indexed Job (pod i is shard i/N, started " +
        "together behind shard 0's barrier), a headless Service, the scenario and config as a ConfigMap, " +
        "a results volume or bucket, and NEXT-STEPS.md with the commands from apply to merge",
    )
    .argument("<scenario>", `a scenario from scenarios/ (${builtinScenarios().join(", ")}) or a path to one`)
    .requiredOption("--shards <n>", "how many generator pods (shards)")
    .option("--out <dir>", "where the files go (default results/<time>-k8s-<scenario>)")
    .option(
      "-c, --config <file>",
      "the cutover config whose stack.external the pods load (default: as cutover load)",
    )
    .option("--name <name>", "Job, Service and ConfigMap name (default cutover-<scenario>)")
    .option("--namespace <ns>", "namespace of every object (default: kubectl's current one)")
    .option(
      "--image <ref>",
      "the generator image (containers/generator.Dockerfile; default cutover-generator:<version>)",
    )
    .addOption(
      new Option("--anti-affinity <mode>", "one generator per node: required, preferred, or none")
        .choices(["required", "preferred", "none"])
        .default("preferred"),
    )
    .option("--cpu <q>", "CPU request per pod", "1")
    .option("--memory <q>", "memory request per pod", "1Gi")
    .option("--cpu-limit <q>", "CPU limit per pod (default none)")
    .option("--memory-limit <q>", "memory limit per pod (default none)")
    .option(
      "--results <where>",
      "volume (a ReadWriteMany claim mounted at /results) or s3://<bucket>/<prefix> (each pod uploads)",
      "volume",
    )
    .option("--results-size <q>", "size of the results claim", "1Gi")
    .option("--storage-class <name>", "storage class of the results claim (one that offers ReadWriteMany)")
    .option(
      "--s3-secret <name>",
      "Secret with AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL, AWS_REGION",
      "cutover-s3",
    )
    .option("--barrier-port <n>", "port of shard 0's start barrier", "7070")
    .option(
      "--deadline <d>",
      "the Job is ended after this long (default: barrier timeout, warm-up, schedule and drain + 10m)",
    )
    .option("--driver <name>", "passed to every shard's cutover load (a built-in driver)")
    .option("--rate <n>", "total operations per second, across all shards")
    .option("--users <n>", "virtual users, across all shards")
    .option("--duration <d>", "how long the schedule runs")
    .option("--ramp <stages>", "ramping arrival rate: RATE:DURATION,…")
    .option("--closed", "closed model at the same nominal rate")
    .option("--think <d>", "closed model: pause after each operation")
    .option("--group-size <n>", "members per group (group scenarios)")
    .option(
      "--threshold <expr>",
      "pass/fail, e.g. 'e2e.p99<200' (repeatable); cutover merge applies them",
      collect,
    )
    .option("--drain <d>", "after the last send, how long to wait for deliveries")
    .option("--workers <n>", "worker threads per pod")
    .option("--interval <d>", "interval of the interval log and per-interval results")
    .option("--warmup <d>", "unmeasured warm-up before the barrier (auto, 0 or a duration)")
    .option(
      "--barrier-timeout <d>",
      "how long every shard waits for all to be ready (cutover load's default: 15m)",
    )
    .addHelpText(
      "after",
      `
Examples:
  $ cutover k8s render direct-chat --shards 4 -c staging.yaml --rate 2000 --duration 5m
  $ cutover k8s render group-fanout --shards 8 -c staging.yaml --results s3://perf/runs/fanout-1 --anti-affinity required`,
    )
    .action(async (scenarioArg: string, flags: RenderFlags & { out?: string }) => {
      const input = await renderRequest(scenarioArg, flags);
      const outDir = flags.out
        ? path.resolve(flags.out)
        : newResultsDir(outputLocations.results, new Date(), `k8s-${input.scenario.name}`);
      const argv = process.argv
        .slice(2)
        .map((a) => (/^[\w./:=,@%+-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`));
      const files = writeManifests(input, outDir, `cutover ${argv.join(" ")}`);
      for (const file of files) process.stdout.write(`${pc.green("✓")} ${shown(file)}\n`);
      process.stdout.write(
        `${input.shards} shards of ${input.scenario.name} as job/${input.name}; next: ${shown(path.join(outDir, NEXT_STEPS_FILE))}\n`,
      );
    });
}

function uploadCommand(): Command {
  return new Command("upload")
    .description(
      "upload a results folder to an S3-compatible bucket (what each pod does after its load); " +
        "endpoint and credentials from AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION",
    )
    .argument("<dir>", "the folder, e.g. a shard's --out")
    .argument("<s3-url>", "s3://<bucket>/<prefix>: every file lands below it at its relative path")
    .action(async (dir: string, url: string) => {
      const to = parseS3Url(url);
      const keys = await uploadDir(s3ClientFromEnv(), dir, to);
      process.stdout.write(`${pc.green("✓")} ${keys.length} files → ${formatS3Url(to)}/\n`);
    });
}

function downloadCommand(): Command {
  return new Command("download")
    .description("download everything below an S3 prefix into a folder (the shards, for cutover merge)")
    .argument("<s3-url>", "s3://<bucket>/<prefix>")
    .argument("<dir>", "where the files go, at their paths relative to the prefix")
    .action(async (url: string, dir: string) => {
      const from = parseS3Url(url);
      const files = await downloadPrefix(s3ClientFromEnv(), from, dir);
      process.stdout.write(`${pc.green("✓")} ${files.length} files from ${formatS3Url(from)}/ → ${dir}\n`);
    });
}

export function k8sCommand(): Command {
  const command = new Command("k8s").description(
    "run a load beyond one machine: render an Indexed Job of N shards, move shard results through S3",
  );
  // Subcommands built on their own do not inherit the program's settings: usage errors exit 2 here too.
  for (const sub of [renderCommand(), uploadCommand(), downloadCommand()])
    command.addCommand(sub.exitOverride().showHelpAfterError("(run with --help for usage)"));
  return command;
}
