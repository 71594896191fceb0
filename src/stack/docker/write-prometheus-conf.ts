import { writeFileSync } from "node:fs";
import path from "node:path";
import { packageRoot } from "../../util/package-root.js";
import { renderDockerPrometheusConf } from "./prometheus-conf.js";

// Regenerates containers/prometheus.yml: `npx tsx src/stack/docker/write-prometheus-conf.ts`.
const file = path.join(packageRoot(), "containers", "prometheus.yml");
writeFileSync(file, renderDockerPrometheusConf());
process.stdout.write(`wrote ${file}\n`);
