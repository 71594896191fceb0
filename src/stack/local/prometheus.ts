import { writeFileSync } from "node:fs";
import path from "node:path";
import { renderPrometheusConfig, type ScrapeJob } from "../../server-metrics/prometheus-config.js";
import type { Artifacts } from "./artifacts.js";
import type { RunDirLayout } from "./layout.js";
import { type LocalPorts, METRICS_SERVICES } from "./ports-plan.js";
import type { ServiceSpec } from "./services.js";

/**
 * Every metrics endpoint of the run: one job per OpenIM service (message gateways by index),
 * the reference gateway, Prometheus itself and — when the stack runs the legacy pipeline —
 * each legacy service (the consumer serves /metrics on its health port).
 */
export function localScrapeJobs(ports: LocalPorts, legacy: boolean): ScrapeJob[] {
  const at = (port: number) => `127.0.0.1:${port}`;
  const jobs: ScrapeJob[] = METRICS_SERVICES.filter((s) => s !== "openim-msggateway").map((service) => ({
    job: service,
    targets: [{ address: at(ports.metrics[service] as number) }],
  }));
  jobs.push({
    job: "openim-msggateway",
    targets: ports.msgGateways.map((g, i) => ({ address: at(g.metrics), labels: { index: String(i) } })),
  });
  jobs.push({ job: "gateway", targets: [{ address: at(ports.gateway) }] });
  if (legacy)
    jobs.push(
      { job: "legacy-chat", targets: [{ address: at(ports.legacyChat) }] },
      { job: "legacy-consumer", targets: [{ address: at(ports.legacyConsumer) }] },
      { job: "legacy-websocket", targets: [{ address: at(ports.legacyWebsocket) }] },
    );
  jobs.push({ job: "prometheus", targets: [{ address: at(ports.prometheus) }] });
  return jobs;
}

/** Writes prometheus.yml into the run directory and says how to start the server on it. */
export function prometheusService(
  artifacts: Artifacts,
  layout: RunDirLayout,
  ports: LocalPorts,
  legacy: boolean,
): ServiceSpec {
  const configFile = path.join(layout.prometheus, "prometheus.yml");
  writeFileSync(
    configFile,
    renderPrometheusConfig({
      jobs: localScrapeJobs(ports, legacy),
      scrapeIntervalSec: 1,
      fileSdDir: layout.prometheusTargets,
    }),
  );
  return {
    name: "prometheus",
    command: artifacts.prometheus,
    args: [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(layout.data, "prometheus")}`,
      `--web.listen-address=127.0.0.1:${ports.prometheus}`,
      // A generator that cannot be scraped (behind NAT, a short Job) can write its samples in.
      "--web.enable-remote-write-receiver",
      "--log.level=warn",
    ],
    what: "Prometheus 3.16.0 (real server, built from the Go module proxy)",
  };
}
