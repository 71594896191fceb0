import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { renderPrometheusConfig } from "../../server-metrics/prometheus-config.js";
import { assignPorts, portCount } from "./ports-plan.js";
import { localScrapeJobs } from "./prometheus.js";

const ports = assignPorts(
  Array.from({ length: portCount(2) }, (_, i) => 20000 + i),
  2,
);
const at = (port: number) => `127.0.0.1:${port}`;
const addressesOf = (jobs: ReturnType<typeof localScrapeJobs>, job: string) =>
  jobs.find((j) => j.job === job)?.targets.map((t) => t.address);

describe("the local stack's scrape jobs", () => {
  test("the gateway is scraped on its own port, and each legacy service on its own when the stack runs them", () => {
    const jobs = localScrapeJobs(ports, true);
    expect(addressesOf(jobs, "gateway")).toEqual([at(ports.gateway)]);
    expect(addressesOf(jobs, "legacy-chat")).toEqual([at(ports.legacyChat)]);
    expect(addressesOf(jobs, "legacy-consumer")).toEqual([at(ports.legacyConsumer)]);
    expect(addressesOf(jobs, "legacy-websocket")).toEqual([at(ports.legacyWebsocket)]);
    // Every job scrapes something, no job name twice, no address twice.
    const names = jobs.map((j) => j.job);
    expect(new Set(names).size).toBe(names.length);
    const addresses = jobs.flatMap((j) => j.targets.map((t) => t.address));
    expect(new Set(addresses).size).toBe(addresses.length);
  });

  test("without the legacy pipeline there are no legacy jobs, and the gateway's is still there", () => {
    const jobs = localScrapeJobs(ports, false);
    expect(jobs.map((j) => j.job).filter((n) => n.startsWith("legacy"))).toEqual([]);
    expect(addressesOf(jobs, "gateway")).toEqual([at(ports.gateway)]);
  });

  test("OpenIM's services, both message gateways (by index) and Prometheus itself stay as they were", () => {
    const jobs = localScrapeJobs(ports, true);
    expect(addressesOf(jobs, "openim-api")).toEqual([at(ports.metrics["openim-api"] as number)]);
    const msgGateway = jobs.find((j) => j.job === "openim-msggateway");
    expect(msgGateway?.targets).toEqual(
      ports.msgGateways.map((g, i) => ({ address: at(g.metrics), labels: { index: String(i) } })),
    );
    expect(addressesOf(jobs, "prometheus")).toEqual([at(ports.prometheus)]);
  });

  test("the rendered prometheus.yml has a scrape config for each new job, on /metrics", () => {
    const yml = parse(
      renderPrometheusConfig({ jobs: localScrapeJobs(ports, true), scrapeIntervalSec: 1 }),
    ) as {
      scrape_configs: Array<{ job_name: string; metrics_path?: string; static_configs: unknown[] }>;
    };
    for (const job of ["gateway", "legacy-chat", "legacy-consumer", "legacy-websocket"]) {
      const config = yml.scrape_configs.find((c) => c.job_name === job);
      expect(config, job).toBeDefined();
      expect(config?.metrics_path).toBeUndefined(); // Prometheus's default: /metrics
    }
  });
});
