import { describe, expect, test } from "vitest";
import { renderLocalNginxConf, renderNginxServer } from "./nginx-config.js";

describe("nginx routing", () => {
  const conf = renderNginxServer({
    listen: "127.0.0.1:8080",
    openimWs: "127.0.0.1:10001",
    gateway: "127.0.0.1:8000",
    accessLog: "/run/nginx/access.log",
  });

  test("the WebSocket route goes straight to OpenIM's message gateway with upgrade headers", () => {
    const block = conf.slice(conf.indexOf("location /msg_gateway"), conf.indexOf("location /api/"));
    expect(block).toContain("proxy_pass http://127.0.0.1:10001;");
    expect(block).toContain("proxy_set_header Upgrade $http_upgrade;");
    expect(block).toMatch(/proxy_read_timeout \d{3,}s;/);
  });

  test("REST goes to the gateway and OpenIM's REST API is not routed at all", () => {
    expect(conf).toMatch(
      /location \/api\/ \{[^}]*client_max_body_size 1m;[^}]*proxy_pass http:\/\/127\.0\.0\.1:8000;/,
    );
    expect(conf).not.toContain("10002");
  });

  test("the access log has no query strings (the WebSocket URL carries the imToken), in the server block so docker's image log is replaced", () => {
    expect(conf).toMatch(/log_format cutover_noquery '[^']*\$uri[^']*';/);
    expect(conf).not.toMatch(/log_format[^;]*\$request[ "]/);
    const server = conf.slice(conf.indexOf("server {"));
    expect(server).toMatch(/^ {4}access_log \/run\/nginx\/access\.log cutover_noquery;$/m);
  });

  test("the legacy route appears only when a legacy stack runs", () => {
    expect(conf).not.toContain("/legacy/");
    expect(
      renderNginxServer({ listen: "80", openimWs: "a:1", gateway: "b:2", legacy: "c:3", accessLog: "x" }),
    ).toContain("location /legacy/");
  });

  test("a local nginx keeps every file under its prefix", () => {
    const full = renderLocalNginxConf(
      { listen: "127.0.0.1:1", openimWs: "a:1", gateway: "b:2", accessLog: "/run/nginx/access.log" },
      "/run/nginx",
      false,
    );
    for (const line of full.split("\n").filter((l) => /(_path|pid|_log) /.test(l)))
      expect(line).toContain("/run/nginx/");
    expect(full).not.toContain("user root");
  });
});
