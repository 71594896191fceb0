import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runCutover } from "../../test/support/cli.js";
import { freePort } from "../load/toxiproxy.js";
import { defaultCacheDir, planArtifacts } from "../stack/local/artifacts.js";
import { downloadPrefix, s3ClientFromEnv, uploadDir } from "./s3-results.js";
import { parseS3Url } from "./s3-url.js";

// Shard results through a real S3 server: the local stack's stand-in (gofakes3, in memory),
// started here on a free loopback port and ended by its pid.

const tmp = mkdtempSync(path.join(os.tmpdir(), "cutover-k8s-s3-"));
let server: ChildProcess | undefined;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  const cacheDir = defaultCacheDir();
  mkdirSync(cacheDir, { recursive: true });
  const s3 = planArtifacts(cacheDir, "3.8.3", "3.9.0").find((step) => step.name === "S3 stand-in");
  if (!s3) throw new Error("the artifact plan has no S3 stand-in");
  await s3.build?.(path.join(cacheDir, "s3-standin-build.log"));
  const port = await freePort();
  server = spawn(s3.path, ["-addr", `127.0.0.1:${port}`, "-bucket", "results"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const stdout = server.stdout;
  if (!stdout) throw new Error("s3-standin has no stdout");
  // Ready once it says so: it creates the bucket before it listens.
  await Promise.race([
    once(stdout, "data"),
    once(server, "exit").then(() => {
      throw new Error("s3-standin exited at start");
    }),
  ]);
  env = {
    AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
    AWS_ACCESS_KEY_ID: "cutover",
    AWS_SECRET_ACCESS_KEY: "cutover-secret",
    AWS_REGION: "us-east-1",
  };
}, 300_000);

afterAll(() => {
  if (server?.pid !== undefined && server.exitCode === null) process.kill(server.pid, "SIGTERM");
  rmSync(tmp, { recursive: true, force: true });
});

function shardDir(name: string, files: Record<string, string>): string {
  const dir = path.join(tmp, name);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

describe("shard results through an S3-compatible bucket", () => {
  test("two shards uploaded as the pods do, downloaded as one folder for cutover merge", {
    timeout: 120_000,
  }, async () => {
    const shard0 = shardDir("shard-0", { "results.json": '{"shard":0}\n', "intervals.hlog": "#[hlog 0]\n" });
    const shard1 = shardDir("shard-1", {
      "results.json": '{"shard":1}\n',
      "intervals.hlog": "#[hlog 1]\n",
      "raw/samples.txt": "1 2 3\n",
    });
    const up = runCutover(["k8s", "upload", shard0, "s3://results/run-1/shard-0"], { env });
    expect(up.stderr).toBe("");
    expect(up.stdout).toContain("2 files → s3://results/run-1/shard-0/");
    expect(up.code).toBe(0);
    const keys = await uploadDir(s3ClientFromEnv(env), shard1, parseS3Url("s3://results/run-1/shard-1"));
    expect(keys).toEqual([
      "run-1/shard-1/intervals.hlog",
      "run-1/shard-1/raw/samples.txt",
      "run-1/shard-1/results.json",
    ]);

    const shards = path.join(tmp, "shards");
    const down = runCutover(["k8s", "download", "s3://results/run-1", shards], { env });
    expect(down.stderr).toBe("");
    expect(down.stdout).toContain("5 files from s3://results/run-1/");
    expect(down.code).toBe(0);
    expect(readFileSync(path.join(shards, "shard-0", "results.json"), "utf8")).toBe('{"shard":0}\n');
    expect(readFileSync(path.join(shards, "shard-1", "intervals.hlog"), "utf8")).toBe("#[hlog 1]\n");
    expect(readFileSync(path.join(shards, "shard-1", "raw", "samples.txt"), "utf8")).toBe("1 2 3\n");
  });

  test("a prefix with nothing below it is an error, not an empty folder to merge", async () => {
    await expect(
      downloadPrefix(s3ClientFromEnv(env), parseS3Url("s3://results/no-such-run"), path.join(tmp, "none")),
    ).rejects.toThrow("nothing below s3://results/no-such-run");
  });

  test("a bucket that does not exist: one line naming the object, exit 1", { timeout: 60_000 }, () => {
    const dir = shardDir("shard-x", { "results.json": "{}\n" });
    const run = runCutover(["k8s", "upload", dir, "s3://no-such-bucket/run"], { env });
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toContain("upload to s3://no-such-bucket/run/results.json");
  });

  test("what is not an s3:// URL is a usage error", () => {
    expect(() => parseS3Url("https://bucket/x")).toThrow("expected s3://<bucket>/<prefix>");
    expect(() => parseS3Url("s3://bucket/../x")).toThrow("may not contain . or .. segments");
    expect(parseS3Url("s3://bucket/a/b/")).toEqual({ bucket: "bucket", prefix: "a/b" });
  });
});
