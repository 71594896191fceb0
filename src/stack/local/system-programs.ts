import { spawnSync } from "node:child_process";
import path from "node:path";
import { postgresBinDir } from "./legacy-postgres.js";
import { rabbitmqServerScript } from "./legacy-rabbitmq.js";

/** A program the local stack runs, how to ask its version, and the Debian package that provides it. */
export interface SystemProgram {
  name: string;
  command: string;
  versionArgs: string[];
  /** Debian package for `doctor --fix`; undefined when it is not an apt package here. */
  aptPackage?: string;
  /** Needed now by the local stack, or only by a part that comes later (legacy stack, browser SDK). */
  requiredFor: "local stack" | "legacy stack" | "browser SDK suite" | "docker stack" | "k8s manifest check";
  /** Part of the local stack's legacy pipeline only: not needed when it is left out (`up --no-legacy`). */
  legacy?: boolean;
  /** Where the program is when it is not on PATH (Debian keeps PostgreSQL's server programs off it). */
  locate?: () => string | undefined;
}

export const SYSTEM_PROGRAMS: SystemProgram[] = [
  {
    name: "Go",
    command: "go",
    versionArgs: ["version"],
    aptPackage: "golang-go",
    requiredFor: "local stack",
  },
  {
    name: "Java",
    command: "java",
    versionArgs: ["-version"],
    aptPackage: "default-jdk-headless",
    requiredFor: "local stack",
  },
  { name: "Maven", command: "mvn", versionArgs: ["-v"], aptPackage: "maven", requiredFor: "local stack" },
  {
    name: "redis-server",
    command: "redis-server",
    versionArgs: ["--version"],
    aptPackage: "redis-server",
    requiredFor: "local stack",
  },
  {
    name: "etcd",
    command: "etcd",
    versionArgs: ["--version"],
    aptPackage: "etcd-server",
    requiredFor: "local stack",
  },
  {
    name: "nginx",
    command: "nginx",
    versionArgs: ["-v"],
    aptPackage: "nginx-light",
    requiredFor: "local stack",
  },
  {
    name: "rabbitmq-server",
    command: "rabbitmq-server",
    versionArgs: [],
    aptPackage: "rabbitmq-server",
    requiredFor: "local stack",
    legacy: true,
    locate: rabbitmqServerScript,
  },
  {
    name: "PostgreSQL",
    command: "postgres",
    versionArgs: ["--version"],
    aptPackage: "postgresql",
    requiredFor: "local stack",
    legacy: true,
    locate: () => {
      const bin = postgresBinDir();
      return bin ? path.join(bin, "postgres") : undefined;
    },
  },
  {
    name: "Chromium",
    command: "chromium",
    versionArgs: ["--version"],
    aptPackage: "chromium",
    requiredFor: "browser SDK suite",
  },
  {
    // The Kubernetes schema check converts the release's OpenAPI spec with a PyPI tool, in a venv
    // (src/k8s/kubeconform.ts); Debian ships venv's pip bootstrap apart from python3.
    name: "python3-venv",
    command: "python3",
    versionArgs: ["--version"],
    aptPackage: "python3-venv",
    requiredFor: "k8s manifest check",
    locate: () => {
      const python = whichPath("python3");
      if (!python) return undefined;
      return spawnSync(python, ["-c", "import ensurepip, venv"], { timeout: 15_000 }).status === 0
        ? python
        : undefined;
    },
  },
  {
    // Optional: validates containers/compose.yaml without an engine; `--stack docker` also takes `docker compose`.
    name: "docker-compose",
    command: "docker-compose",
    versionArgs: ["version", "--short"],
    aptPackage: "docker-compose",
    requiredFor: "docker stack",
  },
];

/**
 * What `doctor --fix` installs without --all: the local stack's programs, Chromium, because
 * the official-sdk conformance suite (run by `npm test`, so by CI) drives the wasm SDK in it —
 * no browser can be downloaded here, so Debian's package is the only way — and python3-venv
 * for the Kubernetes manifest check `npm test` runs.
 */
export const FIXED_BY_DEFAULT: ReadonlyArray<SystemProgram["requiredFor"]> = [
  "local stack",
  "browser SDK suite",
  "k8s manifest check",
];

export interface ProgramCheck {
  program: SystemProgram;
  found: boolean;
  version?: string;
}

function whichPath(command: string): string | undefined {
  const res = spawnSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" });
  const out = res.stdout.trim();
  return res.status === 0 && out ? out : undefined;
}

/** First line mentioning a version number, from stdout or stderr (java and nginx print to stderr). */
function versionOf(program: SystemProgram, command: string): string | undefined {
  if (program.versionArgs.length === 0) return "installed";
  const res = spawnSync(command, program.versionArgs, { encoding: "utf8", timeout: 15_000 });
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips terminal colour codes (Maven prints them)
  const text = `${res.stdout ?? ""}\n${res.stderr ?? ""}`.replace(/\u001b\[[0-9;]*m/g, "");
  const line = text.split("\n").find((l) => /\d+\.\d+/.test(l));
  return line?.trim();
}

export function checkProgram(program: SystemProgram): ProgramCheck {
  const command = program.locate ? program.locate() : whichPath(program.command);
  if (!command) return { program, found: false };
  return { program, found: true, version: versionOf(program, command) };
}

export function checkPrograms(filter?: (p: SystemProgram) => boolean): ProgramCheck[] {
  return SYSTEM_PROGRAMS.filter(filter ?? (() => true)).map(checkProgram);
}
