/**
 * Where the stack is and what load to offer, from `k6 run -e NAME=value` (__ENV). The
 * defaults are the scenario's in cutover's `scenarios/`, so a k6 run and a cutover run of the
 * same name offer the same load.
 */

function text(name: string, fallback: string): string {
  const v = __ENV[name];
  return v === undefined || v === "" ? fallback : v;
}

function num(name: string, fallback: number): number {
  const v = Number(text(name, String(fallback)));
  if (!Number.isFinite(v) || v < 0) throw new Error(`-e ${name}=${__ENV[name]}: expected a number ≥ 0`);
  return v;
}

export interface StackEnv {
  /** OpenIM's REST API (admin token, register, user tokens, groups). */
  openimApi: string;
  /** OpenIM's message gateway, directly or through nginx's /msg_gateway. */
  openimWs: string;
  adminSecret: string;
  adminUserID: string;
  platformID: number;
}

export function stackEnv(): StackEnv {
  return {
    openimApi: text("OPENIM_API", "http://127.0.0.1:10002").replace(/\/+$/, ""),
    openimWs: text("OPENIM_WS", "ws://127.0.0.1:10001"),
    adminSecret: text("ADMIN_SECRET", "openIM123"),
    adminUserID: text("ADMIN_USER_ID", "imAdmin"),
    platformID: num("PLATFORM_ID", 3),
  };
}

export const envText = text;
export const envNumber = num;

/** `30s`, `500ms`, `2m` → ms (the duration strings k6 and cutover both take). */
export function durationMs(spec: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(spec.trim());
  if (!m) throw new Error(`duration "${spec}": expected e.g. 30s, 500ms, 2m`);
  const unit = m[2] === "ms" ? 1 : m[2] === "s" ? 1000 : m[2] === "m" ? 60_000 : 3_600_000;
  return Number(m[1]) * unit;
}
