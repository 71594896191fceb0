import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { packageRoot } from "../../util/package-root.js";
import { runCommand } from "./run-command.js";

/** Binaries and jars the local stack needs beyond npm, built once per version and kept outside the repo. */
export interface Artifacts {
  openimBin: string;
  s3Standin: string;
  mongoStandinJar: string;
  kafkaLibs: string;
  /** The real Prometheus server (a single binary) that scrapes OpenIM, the gateway and cutover. */
  prometheus: string;
}

/** Prometheus 3.16.0: the Go module's v0.316.0 (Prometheus 3 tags its module v0.3XX.Y for v3.XX.Y). */
export const PROMETHEUS_MODULE_VERSION = "v0.316.0";

export const OPENIM_COMMANDS = [
  "openim-api",
  "openim-msggateway",
  "openim-msgtransfer",
  "openim-push",
  "openim-crontask",
  "openim-rpc-user",
  "openim-rpc-auth",
  "openim-rpc-friend",
  "openim-rpc-group",
  "openim-rpc-conversation",
  "openim-rpc-msg",
  "openim-rpc-third",
] as const;
export type OpenImCommand = (typeof OPENIM_COMMANDS)[number];

const OPENIM_MODULE = "github.com/openimsdk/open-im-server/v3";

export function defaultCacheDir(): string {
  return process.env.CUTOVER_CACHE_DIR ?? path.join(os.homedir(), ".cache", "cutover");
}

function openimPackage(command: OpenImCommand): string {
  return command.startsWith("openim-rpc-")
    ? `${OPENIM_MODULE}/cmd/openim-rpc/${command}`
    : `${OPENIM_MODULE}/cmd/${command}`;
}

/** Newest mtime under a folder: a stand-in's sources changed since its build means build again. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "target" || entry.name === "bin") continue;
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

function isFresh(output: string, sources: string): boolean {
  return existsSync(output) && statSync(output).mtimeMs >= newestMtime(sources);
}

/** Builds into a temporary folder and renames it into place, so a killed build never leaves half a cache. */
export async function publish(finalDir: string, build: (tmpDir: string) => Promise<void>): Promise<void> {
  const tmp = `${finalDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    await build(tmp);
    rmSync(finalDir, { recursive: true, force: true });
    renameSync(tmp, finalDir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export interface ArtifactStep {
  name: string;
  /** undefined when the cached artifact can be used as it is. */
  build?: (log: string) => Promise<void>;
  path: string;
}

export function planArtifacts(cacheDir: string, openimVersion: string, kafkaVersion: string): ArtifactStep[] {
  const buildsDir = path.join(packageRoot(), "builds");
  const openimBin = path.join(cacheDir, "openim", openimVersion, "bin");
  const s3Dir = path.join(cacheDir, "s3-standin");
  const s3Bin = path.join(s3Dir, "s3-standin");
  const mongoDir = path.join(cacheDir, "mongo-standin");
  const mongoJar = path.join(mongoDir, "mongo-standin.jar");
  const kafkaLibs = path.join(cacheDir, "kafka", kafkaVersion, "libs");
  const prometheusDir = path.join(cacheDir, "prometheus", PROMETHEUS_MODULE_VERSION);
  const prometheusBin = path.join(prometheusDir, "prometheus");

  const openimReady = OPENIM_COMMANDS.every((cmd) => existsSync(path.join(openimBin, cmd)));
  const goEnv = { ...process.env, GOFLAGS: "-mod=mod", GOTOOLCHAIN: "local" };

  return [
    {
      name: `OpenIM v${openimVersion} (12 binaries)`,
      path: openimBin,
      build: openimReady
        ? undefined
        : (log) =>
            publish(openimBin, (tmp) =>
              runCommand(
                "go",
                ["build", "-trimpath", "-o", `${tmp}/`, ...OPENIM_COMMANDS.map(openimPackage)],
                {
                  cwd: path.join(buildsDir, "openim"),
                  env: goEnv,
                  log,
                  timeoutMs: 20 * 60_000,
                },
              ),
            ),
    },
    {
      name: "S3 stand-in",
      path: s3Bin,
      build: isFresh(s3Bin, path.join(buildsDir, "s3-standin"))
        ? undefined
        : (log) =>
            publish(s3Dir, (tmp) =>
              runCommand("go", ["build", "-o", path.join(tmp, "s3-standin"), "."], {
                cwd: path.join(buildsDir, "s3-standin"),
                env: goEnv,
                log,
                timeoutMs: 10 * 60_000,
              }),
            ),
    },
    {
      name: "MongoDB stand-in (mongo-java-server)",
      path: mongoJar,
      build: isFresh(mongoJar, path.join(buildsDir, "mongo-standin"))
        ? undefined
        : (log) =>
            publish(mongoDir, async (tmp) => {
              const module = path.join(buildsDir, "mongo-standin");
              await runCommand(
                "mvn",
                ["-B", "-q", "-f", path.join(module, "pom.xml"), "package", "-DskipTests"],
                {
                  log,
                  timeoutMs: 15 * 60_000,
                },
              );
              renameSync(
                path.join(module, "target", "mongo-standin.jar"),
                path.join(tmp, "mongo-standin.jar"),
              );
            }),
    },
    {
      name: `Kafka ${kafkaVersion} jars`,
      path: kafkaLibs,
      build: existsSync(path.join(kafkaLibs, `kafka_2.13-${kafkaVersion}.jar`))
        ? undefined
        : (log) =>
            publish(kafkaLibs, (tmp) =>
              runCommand(
                "mvn",
                [
                  "-B",
                  "-q",
                  "-f",
                  path.join(buildsDir, "kafka", "pom.xml"),
                  `-Dkafka.version=${kafkaVersion}`,
                  "dependency:copy-dependencies",
                  `-DoutputDirectory=${tmp}`,
                  "-DincludeScope=runtime",
                ],
                { log, timeoutMs: 15 * 60_000 },
              ),
            ),
    },
    {
      name: `Prometheus ${PROMETHEUS_MODULE_VERSION} (cmd/prometheus)`,
      path: prometheusBin,
      build: existsSync(prometheusBin)
        ? undefined
        : (log) =>
            publish(prometheusDir, (tmp) =>
              // Its web UI's assets are not in the module; the HTTP API (what cutover queries) is.
              runCommand(
                "go",
                ["install", `github.com/prometheus/prometheus/cmd/prometheus@${PROMETHEUS_MODULE_VERSION}`],
                {
                  env: { ...process.env, GOBIN: tmp, GOTOOLCHAIN: "local", GOFLAGS: "" },
                  log,
                  // 3–6 min on two idle cores; 18 min was measured with the machine loaded 10×.
                  timeoutMs: 45 * 60_000,
                },
              ),
            ),
    },
  ];
}

export function artifactPaths(steps: ArtifactStep[]): Artifacts {
  const [openim, s3, mongo, kafka, prometheus] = steps;
  if (!openim || !s3 || !mongo || !kafka || !prometheus) throw new Error("artifact plan is incomplete");
  return {
    openimBin: openim.path,
    s3Standin: s3.path,
    mongoStandinJar: mongo.path,
    kafkaLibs: kafka.path,
    prometheus: prometheus.path,
  };
}

/** Where OpenIM's stock config/ folder is: the module cache copy of the pinned version. */
export function openimModuleDir(version: string): string {
  const modCache =
    process.env.GOMODCACHE ?? path.join(process.env.GOPATH ?? path.join(os.homedir(), "go"), "pkg", "mod");
  return path.join(modCache, "github.com", "openimsdk", "open-im-server", `v3@v${version}`);
}
