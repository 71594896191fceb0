import { spawn } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { jsonWsChatDriver } from "../../examples/json-ws-chat/driver.js";
import { type JsonWsChat, startJsonWsChat } from "../../examples/json-ws-chat/server.js";
import { cliEnv } from "../../test/support/cli.js";
import { packageRoot } from "../util/package-root.js";
import type { ChatDriver, DriverSession } from "./driver.js";
import { CONTRACT_CHECKS, type ContractCheck, runDriverContract } from "./driver-contract.js";

// The contract against a driver that keeps it (the example team's) and against that driver
// broken on purpose: each break must fail the check that names it, in bounded time.
let server: JsonWsChat;
beforeAll(async () => {
  server = await startJsonWsChat({ port: 0 });
});
afterAll(() => server.close());

/** The example driver with its sessions changed by `wrap`. */
function broken(wrap: (s: DriverSession) => Partial<DriverSession>): ChatDriver {
  const driver = jsonWsChatDriver(server.url);
  return {
    ...driver,
    login: async (user) => {
      const s = await driver.login(user);
      return {
        userID: s.userID,
        connect: (...args) => s.connect(...args),
        send: (to, text) => s.send(to, text),
        disconnect: () => s.disconnect(),
        ...wrap(s),
      };
    },
  };
}

const byName = (checks: ContractCheck[]) => Object.fromEntries(checks.map((c) => [c.check, c]));

describe("the driver contract", () => {
  test("the example driver against its server passes every check", async () => {
    const checks = await runDriverContract(() => jsonWsChatDriver(server.url));
    expect(checks.map((c) => c.check)).toEqual(CONTRACT_CHECKS);
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(checks.some((c) => c.skipped)).toBe(false);
    expect(byName(checks).receive?.detail).toMatch(
      /the peer got the text once, from the sender, in \d+ ms \(seq 1\)/,
    );
    expect(byName(checks)["wrong password"]?.detail).toMatch(/rejected: login: wrong user or password/);
  });

  test("a driver that drops every push fails 'receive', and what needs it is not run", async () => {
    const started = performance.now();
    const checks = byName(
      await runDriverContract(() => broken((s) => ({ connect: () => s.connect(() => {}) })), {
        timeoutMs: 1000,
      }),
    );
    expect(checks.receive).toMatchObject({ ok: false });
    expect(checks.receive?.detail).toMatch(/nothing with clientMsgID \w+ arrived within 1000 ms/);
    for (const name of ["ordering", "group", "disconnect"])
      expect(checks[name]).toMatchObject({ ok: false, detail: "not run: needs receive" });
    for (const name of ["driver", "accounts", "login", "connect", "send → ack", "wrong password"])
      expect(checks[name]?.ok).toBe(true);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  test("a driver that never acks fails 'send → ack' by timeout, named, in bounded time", async () => {
    const started = performance.now();
    const checks = byName(
      await runDriverContract(() => broken(() => ({ send: () => new Promise(() => {}) })), {
        timeoutMs: 1000,
      }),
    );
    expect(checks["send → ack"]).toMatchObject({ ok: false, detail: "send: no answer within 1000 ms" });
    expect(checks.receive).toMatchObject({ ok: false, detail: "not run: needs send → ack" });
    expect(checks["send after disconnect"]?.detail).toBe("send after disconnect: no answer within 1000 ms");
    expect(performance.now() - started).toBeLessThan(5000);
  });

  test("a driver that delivers twice, or accepts any password, fails 'receive' and 'wrong password'", async () => {
    const lax = broken((s) => ({
      connect: (onMessage) =>
        s.connect((m) => {
          onMessage(m);
          onMessage(m);
        }),
    }));
    const anyPassword: ChatDriver = {
      ...lax,
      login: (user) => lax.login({ ...user, password: user.password.replace(/-wrong$/, "") }),
    };
    const checks = byName(await runDriverContract(() => anyPassword, { timeoutMs: 1000, settleMs: 200 }));
    expect(checks.receive).toMatchObject({ ok: false, detail: "the peer got 2 copies" });
    expect(checks["wrong password"]).toMatchObject({
      ok: false,
      detail: "login with a wrong password resolved instead of rejecting",
    });
  });

  test("a session that keeps its channel after disconnect() fails 'disconnect' and 'send after disconnect'", async () => {
    const checks = byName(
      await runDriverContract(() => broken(() => ({ disconnect: async () => {} })), {
        timeoutMs: 1000,
        settleMs: 200,
      }),
    );
    expect(checks.receive?.ok).toBe(true);
    expect(checks.disconnect).toMatchObject({ ok: false, detail: "1 message(s) delivered after disconnect" });
    expect(checks["send after disconnect"]).toMatchObject({
      ok: false,
      detail: "send after disconnect resolved instead of rejecting",
    });
  });
});

/** `cutover …` from source, as a user runs it; async, since the example server lives in this process. */
function cutover(args: string[], cwd = packageRoot()): Promise<{ code: number; out: string }> {
  const root = packageRoot();
  // tsx by its path: a team's directory (cwd) has no tsx of its own.
  const tsx = pathToFileURL(path.join(root, "node_modules/tsx/dist/loader.mjs")).href;
  const child = spawn(process.execPath, ["--import", tsx, path.join(root, "src/cli/main.ts"), ...args], {
    cwd,
    env: cliEnv(),
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    out += d.toString();
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ code: code ?? -1, out })));
}

describe("cutover check-driver with a team's driver named in a config file", { timeout: 120_000 }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "cutover-check-driver-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("the example driver: one ✓ line per check, exit 0; a wrong URL fails by name, exit 1", async () => {
    const example = path.join(packageRoot(), "examples/json-ws-chat/driver.ts");
    const config = path.join(dir, "cutover.config.json");
    writeFileSync(
      config,
      JSON.stringify({
        drivers: {
          mychat: { module: example, options: { url: server.url } },
          nowhere: { module: example, options: { url: "ws://127.0.0.1:9" } },
        },
      }),
    );
    const ok = await cutover(["check-driver", "mychat", "-c", config]);
    expect(ok.out).not.toMatch(/✗/);
    for (const name of CONTRACT_CHECKS) expect(ok.out).toMatch(new RegExp(`^✓ ${name}\\s+— `, "m"));
    expect(ok.out).toMatch(/mychat keeps the driver contract: 11\/11 checks pass/);
    expect(ok.code).toBe(0);

    const down = await cutover(["check-driver", "nowhere", "-c", config, "--timeout", "2s"]);
    expect(down.out).toMatch(/^✗ accounts\s+— .*ECONNREFUSED/m);
    expect(down.out).toMatch(/^✗ login\s+— not run: needs accounts/m);
    expect(down.code).toBe(1);

    expect((await cutover(["check-driver", "no-such-driver", "-c", config])).code).toBe(2);

    // A module that reads OpenIM's endpoints needs --stack; without it, the first check says so.
    const bundled = await cutover(["check-driver", "src/drivers/legacy-driver.ts", "-c", config]);
    expect(bundled.out).toMatch(
      /^✗ driver\s+— src\/drivers\/legacy-driver.ts read endpoints.legacy, but no stack was acquired: add --stack local/m,
    );
    expect(bundled.code).toBe(1);
  });

  test("a driver outside the checkout importing cutover/driver type-checks against dist/ and passes", async () => {
    const root = packageRoot();
    expect(
      existsSync(path.join(root, "dist/src/drivers/driver.d.ts")),
      "dist/ is built (npm run build)",
    ).toBe(true);
    // A team's repository: its driver and protocol, cutover installed (here: linked), ws its own dependency.
    const team = path.join(dir, "team");
    mkdirSync(path.join(team, "node_modules/@types"), { recursive: true });
    for (const f of ["driver.ts", "protocol.ts"])
      copyFileSync(path.join(root, "examples/json-ws-chat", f), path.join(team, f));
    symlinkSync(root, path.join(team, "node_modules/cutover"), "dir");
    for (const dep of ["ws", "@types/ws", "@types/node"])
      symlinkSync(path.join(root, "node_modules", dep), path.join(team, "node_modules", dep), "dir");
    writeFileSync(
      path.join(team, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "NodeNext",
          moduleResolution: "NodeNext",
          target: "ES2022",
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ["node"],
        },
        files: ["driver.ts"],
      }),
    );
    const tsc = await new Promise<{ code: number; out: string }>((resolve) => {
      const child = spawn(process.execPath, [path.join(root, "node_modules/typescript/bin/tsc"), "-p", team]);
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
      });
      child.on("close", (code) => resolve({ code: code ?? -1, out }));
    });
    expect(tsc.out).toBe("");
    expect(tsc.code).toBe(0);

    writeFileSync(
      path.join(team, "cutover.config.json"),
      JSON.stringify({ drivers: { mychat: { module: "./driver.ts", options: { url: server.url } } } }),
    );
    const run = await cutover(["check-driver", "mychat", "-c", "cutover.config.json"], team);
    expect(run.out).toMatch(/mychat keeps the driver contract: 11\/11 checks pass/);
    expect(run.code).toBe(0);
  });
});
