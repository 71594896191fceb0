import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { planPostgres, postgresBinDir, postgresService, removeRelocatedPostgres } from "./legacy-postgres.js";
import { epmdAnswers, epmdService, planRabbit, rabbitmqService } from "./legacy-rabbitmq.js";

const asRoot = process.getuid?.() === 0;
const made: string[] = [];
const tempDir = (mode = 0o700) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "cutover-legacy-plan-"));
  chmodSync(dir, mode);
  made.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** Can the postgres user write into `dir`? (Always true when not root: then Postgres runs as us.) */
const postgresCanWrite = (dir: string) =>
  !asRoot ||
  spawnSync("setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", "test", "-w", dir])
    .status === 0;

describe("the legacy stack's PostgreSQL cluster", () => {
  test("Debian's server programs are found off PATH, in /usr/lib/postgresql/<major>/bin", () => {
    const bin = postgresBinDir();
    expect(bin).toBeDefined();
    expect(existsSync(path.join(bin as string, "initdb"))).toBe(true);
  });

  test("a mkdtemp run dir (0700) keeps the cluster inside it, reachable by the user Postgres runs as", () => {
    const root = tempDir();
    const data = path.join(root, "data");
    mkdirSync(data);
    const cluster = planPostgres(data, root, 45432);
    expect(cluster.relocated).toBeUndefined();
    expect(cluster.dir).toBe(path.join(data, "postgres"));
    expect(postgresCanWrite(cluster.dir)).toBe(true);
    expect(statSync(root).mode & 0o007).toBe(0o001); // others may search it, not list it
    expect(cluster.url).toMatch(/^postgres:\/\/cutover:[\w-]+@127\.0\.0\.1:45432\/postgres$/);
    const spec = postgresService(cluster);
    expect(spec.args).toEqual(expect.arrayContaining(["-p", "45432", "listen_addresses=127.0.0.1"]));
    if (asRoot) expect(spec.command).toBe("setpriv");
  });

  test.runIf(asRoot)(
    "a run dir behind a parent closed to the postgres user gets its cluster in the temp dir, removed by down",
    () => {
      const closed = tempDir(0o700);
      const root = path.join(closed, "run");
      const data = path.join(root, "data");
      mkdirSync(data, { recursive: true });
      const cluster = planPostgres(data, root, 45433);
      expect(cluster.relocated).toBe(cluster.dir);
      expect(cluster.dir.startsWith(os.tmpdir())).toBe(true);
      expect(postgresCanWrite(cluster.dir)).toBe(true);
      expect(statSync(closed).mode & 0o777).toBe(0o700); // cutover never opens up what it did not make
      removeRelocatedPostgres(root);
      expect(existsSync(cluster.dir)).toBe(false);
    },
  );
});

describe("the legacy stack's RabbitMQ node", () => {
  test("everything it writes is in the run dir; it uses its own epmd and never starts one", () => {
    const root = tempDir();
    const config = path.join(root, "config");
    mkdirSync(config);
    const node = planRabbit(path.join(root, "data"), config, { amqp: 45672, dist: 45673, epmd: 45674 });
    expect(node.nodeName).toBe("cutover45672@localhost");
    expect(node.env).toMatchObject({
      ERL_EPMD_PORT: "45674",
      RABBITMQ_NODE_PORT: "45672",
      RABBITMQ_DIST_PORT: "45673",
      RABBITMQ_MNESIA_BASE: path.join(root, "data", "rabbitmq", "mnesia"),
      RABBITMQ_CONFIG_FILE: path.join(config, "rabbitmq.conf"),
    });
    expect(node.env.RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS).toContain("-start_epmd false");
    expect(readFileSync(path.join(config, "rabbitmq.conf"), "utf8")).toContain(
      "listeners.tcp.1 = 127.0.0.1:45672",
    );
    expect(statSync(path.join(node.dir, "home", ".erlang.cookie")).mode & 0o777).toBe(0o400);
    expect(epmdService(node).args).toEqual(["-port", "45674", "-address", "127.0.0.1"]);
    expect(rabbitmqService(node)).toMatchObject({ name: "rabbitmq", env: node.env, cwd: node.dir });
  });

  test("the epmd probe says no when nothing answers", async () => {
    expect(await epmdAnswers(1)).toBe(false);
  });
});
