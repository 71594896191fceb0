import { describe, expect, test } from "vitest";
import { renderLocalNginxConf, renderNginxServer } from "./nginx-config.js";

describe("nginx routing", () => {
  const conf = renderNginxServer({
    listen: "127.0.0.1:8080",
    openimWs: "127.0.0.1:10001",
    gateway: "127.0.0.1:8000",
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

  test("the legacy route appears only when a legacy stack runs", () => {
    expect(conf).not.toContain("/legacy/");
    expect(renderNginxServer({ listen: "80", openimWs: "a:1", gateway: "b:2", legacy: "c:3" })).toContain(
      "location /legacy/",
    );
  });

  test("a local nginx keeps every file under its prefix", () => {
    const full = renderLocalNginxConf(
      { listen: "127.0.0.1:1", openimWs: "a:1", gateway: "b:2" },
      "/run/nginx",
      false,
    );
    for (const line of full.split("\n").filter((l) => /(_path|pid|_log) /.test(l)))
      expect(line).toContain("/run/nginx/");
    expect(full).not.toContain("user root");
  });
});
