import { readFileSync } from "node:fs";

/**
 * Self time by function (and by file) of a V8 .cpuprofile (node --cpu-prof), as text small
 * enough to keep beside the bench results:
 *   node --import tsx bench/profiles/top-functions.ts FILE.cpuprofile [top=30]
 */
interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error("usage: top-functions.ts FILE.cpuprofile [top]");
const prof = JSON.parse(readFileSync(file, "utf8")) as {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
};
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
for (const [i, id] of prof.samples.entries())
  selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const fnTotals = new Map<string, number>();
const fileTotals = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id);
  if (!n) continue;
  const url = n.callFrame.url
    .replace(/^.*node_modules\//, "nm:")
    .replace(/^file:\/\/.*?\/(src|bench)\//, "$1/");
  const key = `${n.callFrame.functionName || "(anonymous)"} ${url}:${n.callFrame.lineNumber + 1}`;
  fnTotals.set(key, (fnTotals.get(key) ?? 0) + us);
  const f = url || n.callFrame.functionName;
  fileTotals.set(f, (fileTotals.get(f) ?? 0) + us);
}
const top = Number(topArg ?? 30);
const pct = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)} %`;
const print = (title: string, m: Map<string, number>) => {
  process.stdout.write(`${title}\n`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
    process.stdout.write(`${pct(us)}  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}\n`);
};
process.stdout.on("error", () => process.exit(0));
process.stdout.write(`${file}: ${(total / 1e6).toFixed(2)} s sampled\n`);
print("self time by function", fnTotals);
print("\nself time by file", fileTotals);
