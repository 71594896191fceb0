/**
 * Every place cutover writes by default, relative to where it runs. Git and every checker
 * (Biome follows .gitignore) ignore them: a run in a checkout must not break `npm test` there.
 */
export const outputLocations = {
  /** `cutover load/compare/run` results folders. */
  results: "results",
  /** The stack's run directory: config, pids, logs, data. */
  runDir: ".cutover",
  /** `npm run bench` results files. */
  benchResults: "bench/results",
  /** Bundled k6 scripts. */
  k6Bundles: "k6/dist",
} as const;
