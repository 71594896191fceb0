import { execFile } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { z } from "zod";
import { defaultCacheDir, publish } from "../stack/local/artifacts.js";
import { runCommand } from "../stack/local/run-command.js";

/**
 * Checks manifests against the Kubernetes API schema the way CI tools do: kubeconform
 * (github.com/yannh/kubeconform, built with `go install` from the Go module proxy), fed JSON
 * schemas converted from the OpenAPI spec that ships in the Kubernetes release itself
 * (k8s.io/kubernetes's api/openapi-spec/swagger.json, from the same proxy) by openapi2jsonschema2
 * (PyPI), the maintained fork of the converter that produced kubeconform's usual schemas.
 * Everything is built once into the cache, as the local stack's Go parts are.
 */
export const KUBECONFORM_VERSION = "0.8.0";
export const KUBERNETES_VERSION = "1.37.2";
export const OPENAPI2JSONSCHEMA_VERSION = "1.1.37";

const run = promisify(execFile);
const goEnv = () => ({ ...process.env, GOFLAGS: "-mod=mod", GOTOOLCHAIN: "local" });

export function kubeconformBinary(cacheDir = defaultCacheDir()): string {
  return path.join(cacheDir, "kubeconform", KUBECONFORM_VERSION, "kubeconform");
}

export async function ensureKubeconform(cacheDir = defaultCacheDir()): Promise<string> {
  const bin = kubeconformBinary(cacheDir);
  if (existsSync(bin)) return bin;
  const log = path.join(cacheDir, "kubeconform-build.log");
  mkdirSync(cacheDir, { recursive: true });
  await publish(path.dirname(bin), (tmp) =>
    runCommand("go", ["install", `github.com/yannh/kubeconform/cmd/kubeconform@v${KUBECONFORM_VERSION}`], {
      cwd: tmp,
      env: { ...goEnv(), GOBIN: tmp },
      log,
      timeoutMs: 10 * 60_000,
    }),
  );
  return bin;
}

export function kubernetesSchemasDir(cacheDir = defaultCacheDir()): string {
  return path.join(
    cacheDir,
    "kubernetes-schemas",
    `v${KUBERNETES_VERSION}-openapi2jsonschema2-${OPENAPI2JSONSCHEMA_VERSION}`,
  );
}

const goModDownloadSchema = z.object({ Dir: z.string().min(1) });

/** The release's swagger.json, from the Go module proxy's copy of k8s.io/kubernetes. */
async function kubernetesOpenApiSpec(cwd: string): Promise<string> {
  const { stdout } = await run(
    "go",
    ["mod", "download", "-json", `k8s.io/kubernetes@v${KUBERNETES_VERSION}`],
    {
      cwd,
      env: goEnv(),
      timeout: 10 * 60_000,
      maxBuffer: 1 << 20,
    },
  );
  const spec = path.join(
    goModDownloadSchema.parse(JSON.parse(stdout)).Dir,
    "api",
    "openapi-spec",
    "swagger.json",
  );
  if (!existsSync(spec)) throw new Error(`k8s.io/kubernetes@v${KUBERNETES_VERSION} has no ${spec}`);
  return spec;
}

export async function ensureKubernetesSchemas(cacheDir = defaultCacheDir()): Promise<string> {
  const dir = kubernetesSchemasDir(cacheDir);
  if (existsSync(path.join(dir, "job-batch-v1.json"))) return dir;
  const log = path.join(cacheDir, "kubernetes-schemas-build.log");
  mkdirSync(cacheDir, { recursive: true });
  const work = `${dir}.work-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    const spec = await kubernetesOpenApiSpec(work);
    const venv = path.join(work, "venv");
    await runCommand("python3", ["-m", "venv", venv], { log, timeoutMs: 5 * 60_000 });
    await runCommand(
      path.join(venv, "bin", "pip"),
      [
        "install",
        "--quiet",
        "--disable-pip-version-check",
        `openapi2jsonschema2==${OPENAPI2JSONSCHEMA_VERSION}`,
      ],
      { log, timeoutMs: 5 * 60_000 },
    );
    // --strict: additionalProperties false, so a misspelt field is an error as kubectl --validate=strict
    // makes it; not --stand-alone: kinds refer to one _definitions.json (seconds, not minutes, to write).
    await publish(dir, (tmp) =>
      runCommand(
        path.join(venv, "bin", "openapi2jsonschema2"),
        ["--output", tmp, "--expanded", "--kubernetes", "--strict", spec],
        { log, timeoutMs: 10 * 60_000 },
      ),
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return dir;
}

export interface Validation {
  ok: boolean;
  /** kubeconform's own lines: one per invalid resource, then its summary. */
  output: string;
}

/** kubeconform -strict over the files, every kind's schema from the release; a kind without one is an error. */
export async function validateManifests(
  files: string[],
  tools: { kubeconform: string; schemas: string },
): Promise<Validation> {
  const args = [
    "-strict",
    "-summary",
    "-schema-location",
    `${tools.schemas}/{{ .ResourceKind }}{{ .KindSuffix }}.json`,
    ...files,
  ];
  try {
    const { stdout, stderr } = await run(tools.kubeconform, args, { timeout: 120_000 });
    return { ok: true, output: `${stdout}${stderr}` };
  } catch (err) {
    const failed = err as { code?: unknown; stdout?: string; stderr?: string };
    // Exit 1 is kubeconform's "invalid"; anything else (not found, killed) is not a verdict.
    if (failed.code !== 1) throw err;
    return { ok: false, output: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  }
}
