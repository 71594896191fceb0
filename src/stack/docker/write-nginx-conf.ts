import { writeFileSync } from "node:fs";
import path from "node:path";
import { packageRoot } from "../../util/package-root.js";
import { renderDockerNginxConf } from "./nginx-conf.js";

// Regenerates containers/nginx.conf from the shared nginx template: `npx tsx src/stack/docker/write-nginx-conf.ts`.
const file = path.join(packageRoot(), "containers", "nginx.conf");
writeFileSync(file, renderDockerNginxConf());
process.stdout.write(`wrote ${file}\n`);
