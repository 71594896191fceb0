import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ServiceSpec } from "./services.js";

/**
 * The legacy stack's PostgreSQL: Debian's server binaries, a cluster of its own made by
 * initdb for every `up`, and the postmaster run in the foreground as a recorded process.
 * Postgres refuses to run as root, so as root both run as the `postgres` user that
 * Debian's package creates (through setpriv, which execs: the recorded pid is the postmaster's).
 */

const DEBIAN_ROOT = "/usr/lib/postgresql";

/** Debian keeps the server programs off PATH in /usr/lib/postgresql/<major>/bin; the newest major wins. */
export function postgresBinDir(): string | undefined {
  try {
    const majors = readdirSync(DEBIAN_ROOT)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const major of majors) {
      const bin = path.join(DEBIAN_ROOT, major, "bin");
      if (existsSync(path.join(bin, "initdb")) && existsSync(path.join(bin, "postgres"))) return bin;
    }
  } catch {
    // not Debian's layout: try PATH
  }
  const found = spawnSync("sh", ["-c", "command -v initdb"], { encoding: "utf8" }).stdout.trim();
  return found ? path.dirname(realpathSync(found)) : undefined;
}

interface RunAs {
  name: string;
  uid: number;
  gid: number;
}

/** Who runs initdb and the postmaster: the `postgres` user when cutover runs as root, else cutover's own user. */
function runAs(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const entry = spawnSync("getent", ["passwd", "postgres"], { encoding: "utf8" }).stdout.trim();
  const [name, , uid, gid] = entry.split(":");
  if (!name || !uid || !gid) {
    throw new Error(
      "running as root, and there is no `postgres` user to run PostgreSQL as (apt-get install postgresql creates it)",
    );
  }
  return { name, uid: Number(uid), gid: Number(gid) };
}

function asUser(
  user: RunAs | undefined,
  command: string,
  args: string[],
): { command: string; args: string[] } {
  if (!user) return { command, args };
  return {
    command: "setpriv",
    args: [`--reuid=${user.uid}`, `--regid=${user.gid}`, "--init-groups", command, ...args],
  };
}

export interface PostgresCluster {
  /** Holds data/, socket/ and the password file. */
  dir: string;
  dataDir: string;
  socketDir: string;
  port: number;
  user: string;
  password: string;
  database: string;
  url: string;
  bin: string;
  runAs: RunAs | undefined;
  /** Set when the run dir is out of the unprivileged user's reach and the cluster lives in the temp dir. */
  relocated?: string;
}

function relocatedDir(runRoot: string): string {
  const tag = createHash("sha1").update(path.resolve(runRoot)).digest("hex").slice(0, 12);
  return path.join(os.tmpdir(), `cutover-postgres-${tag}`);
}

/** `down` removes a cluster that had to live outside its run dir; one inside it stays with the other data. */
export function removeRelocatedPostgres(runRoot: string): void {
  rmSync(relocatedDir(runRoot), { recursive: true, force: true });
}

/** Can `user` create files in `dir`? (A run dir under /root is out of reach of the postgres user.) */
function reachable(user: RunAs | undefined, dir: string): boolean {
  if (!user) return true;
  const { command, args } = asUser(user, "test", ["-w", dir, "-a", "-x", dir]);
  return spawnSync(command, args).status === 0;
}

function prepareDir(dir: string, user: RunAs | undefined): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, "socket"), { recursive: true, mode: 0o700 });
  if (user) {
    chownSync(dir, user.uid, user.gid);
    chownSync(path.join(dir, "socket"), user.uid, user.gid);
  }
}

/** A fresh, empty cluster directory for this run, with a random password for the `cutover` role. */
export function planPostgres(runDataDir: string, runRoot: string, port: number): PostgresCluster {
  const bin = postgresBinDir();
  if (!bin) throw new Error("PostgreSQL's server programs were not found — run `cutover doctor --fix`");
  const user = runAs();
  let dir = path.join(runDataDir, "postgres");
  prepareDir(dir, user);
  let relocated: string | undefined;
  if (!reachable(user, dir)) {
    // A run dir made by mkdtemp is 0700: let others search (not list) the two levels cutover made.
    for (const d of [runRoot, runDataDir]) chmodSync(d, statSync(d).mode | 0o001);
  }
  if (!reachable(user, dir)) {
    // A parent closed to the postgres user (e.g. /root): keep the cluster in the temp dir, one per run dir.
    rmSync(dir, { recursive: true, force: true });
    dir = relocatedDir(runRoot);
    prepareDir(dir, user);
    relocated = dir;
  }
  const password = randomBytes(18).toString("base64url");
  const database = "postgres";
  return {
    dir,
    dataDir: path.join(dir, "data"),
    socketDir: path.join(dir, "socket"),
    port,
    user: "cutover",
    password,
    database,
    url: `postgres://cutover:${password}@127.0.0.1:${port}/${database}`,
    bin,
    runAs: user,
    ...(relocated ? { relocated } : {}),
  };
}

/** initdb's command line (the password file is written, readable by the cluster's owner only). */
export function initdbCommand(cluster: PostgresCluster): { command: string; args: string[] } {
  const pwfile = path.join(cluster.dir, "pwfile");
  writeFileSync(pwfile, `${cluster.password}\n`, { mode: 0o600 });
  if (cluster.runAs) chownSync(pwfile, cluster.runAs.uid, cluster.runAs.gid);
  return asUser(cluster.runAs, path.join(cluster.bin, "initdb"), [
    "-D",
    cluster.dataDir,
    "-U",
    cluster.user,
    `--pwfile=${pwfile}`,
    "--auth-local=trust",
    "--auth-host=scram-sha-256",
    "-E",
    "UTF8",
    "--locale=C",
    // A throwaway cluster made anew by every `up`: initdb's own fsyncs only slow the start down.
    "--no-sync",
  ]);
}

/** The postmaster in the foreground, loopback only, its socket inside the cluster directory. */
export function postgresService(cluster: PostgresCluster): ServiceSpec {
  const { command, args } = asUser(cluster.runAs, path.join(cluster.bin, "postgres"), [
    "-D",
    cluster.dataDir,
    "-p",
    String(cluster.port),
    "-c",
    "listen_addresses=127.0.0.1",
    "-c",
    `unix_socket_directories=${cluster.socketDir}`,
    "-c",
    "shared_buffers=64MB",
    "-c",
    "max_connections=100",
    "-c",
    "log_min_messages=warning",
    "-c",
    "log_checkpoints=off",
  ]);
  const major = path.basename(path.dirname(cluster.bin));
  return {
    name: "postgres",
    command,
    args,
    what: `PostgreSQL ${/^\d+$/.test(major) ? `${major} ` : ""}(Debian postgresql; own cluster, fsync on)`,
  };
}
