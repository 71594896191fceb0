import { ProcSampler, type ResourceSample, type SampledProcess } from "./proc-sampler.js";

/**
 * Samples the SUT's processes on a timer for as long as a run lasts. A soak of hours would
 * keep tens of thousands of samples, so past `maxSamples` every other one is dropped and
 * only every second one kept from then on: the series keeps its whole span at half the detail.
 */
export function startResourceMonitor(
  processes: SampledProcess[],
  startedAtMs: number,
  intervalMs = 1000,
  maxSamples = 3600,
  /** Every sample kept, as it is kept: the interval log writes it down, so a killed run keeps it. */
  onSample?: (sample: ResourceSample) => void,
) {
  // The generator is sampled too: its own RSS and CPU per message are judged like the SUT's.
  const sampler = new ProcSampler(processes, startedAtMs, true);
  const samples: ResourceSample[] = [];
  let stride = 1;
  let tick = 0;
  sampler.sample(); // baseline for the first CPU delta
  const timer = setInterval(() => {
    // Sampled every tick so each CPU figure covers one interval; kept every `stride` ticks.
    const sample = sampler.sample();
    if (tick++ % stride !== 0) return;
    samples.push(sample);
    onSample?.(sample);
    if (samples.length >= maxSamples) {
      const kept = samples.filter((_, i) => i % 2 === 0);
      samples.length = 0;
      samples.push(...kept);
      stride *= 2;
    }
  }, intervalMs);
  timer.unref();
  return {
    samples,
    /** Run time 0 of the samples' `t`, epoch ms. */
    startedAtMs,
    /** Time between kept samples (grows when a long run thins its series). */
    get intervalMs(): number {
      return intervalMs * stride;
    },
    /** Mean total CPU (% of one core) over the samples taken since `sinceSec` (run time). */
    meanCpuSince(sinceSec: number): number | undefined {
      const recent = samples.filter((s) => s.t >= sinceSec);
      if (recent.length === 0) return undefined;
      return Math.round((recent.reduce((a, s) => a + s.totalCpuPercent, 0) / recent.length) * 10) / 10;
    },
    stop(): void {
      clearInterval(timer);
    },
  };
}

export type ResourceMonitor = ReturnType<typeof startResourceMonitor>;
