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

  test("several message-gateway instances: /msg_gateway goes to an upstream of all of them, least_conn, no stickiness", () => {
    const spread = renderNginxServer({
      listen: "127.0.0.1:8080",
      openimWs: "127.0.0.1:10001",
      openimWsInstances: ["127.0.0.1:10001", "127.0.0.1:10011", "127.0.0.1:10021"],
      gateway: "127.0.0.1:8000",
      accessLog: "/run/nginx/access.log",
    });
    const upstream = spread.slice(spread.indexOf("upstream openim_msg_gateway"), spread.indexOf("server {"));
    expect(upstream).toContain("least_conn;");
    for (const port of [10001, 10011, 10021]) expect(upstream).toContain(`server 127.0.0.1:${port};`);
    expect(upstream).not.toMatch(/ip_hash|hash /);
    const block = spread.slice(spread.indexOf("location /msg_gateway"), spread.indexOf("location /api/"));
    expect(block).toContain("proxy_pass http://openim_msg_gateway;");
    expect(block).toContain("proxy_set_header Upgrade $http_upgrade;");
    // One instance listed is the one-gateway route, unchanged.
    const one = renderNginxServer({
      listen: "80",
      openimWs: "a:1",
      openimWsInstances: ["a:1"],
      gateway: "b:2",
      accessLog: "x",
    });
    expect(one).not.toContain("upstream");
    expect(one).toContain("proxy_pass http://a:1;");
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
    expect(
      renderNginxServer({ listen: "80", openimWs: "a:1", gateway: "b:2", legacy: "c:3", accessLog: "x" }),
    ).toMatch(/location = \/legacy\/metrics \{\s+return 404;/);
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
